import type { WeightFormat, WeightPart } from '../ops/weight-format.ts';

/** Normalised hyper-parameters of a Llama-family decoder (Llama, Mistral, SmolLM2, TinyLlama, Qwen2). */
export interface ModelConfig {
  /** 'llama' | 'mistral' | 'qwen2' — the config's model_type. */
  modelType: 'llama' | 'mistral' | 'qwen2';
  vocabSize: number;
  hiddenSize: number; // D
  intermediateSize: number; // F
  numLayers: number; // L
  numHeads: number; // H (query heads)
  numKvHeads: number; // KV heads (GQA: H % KV === 0)
  headDim: number; // hd (usually D / H)
  maxPositions: number; // max_position_embeddings
  rmsNormEps: number;
  ropeTheta: number;
  tieWordEmbeddings: boolean;
  /** q/k/v projections carry biases (Qwen2). */
  attentionBias: boolean;
  bosTokenId: number | null;
  eosTokenIds: number[];
}

export type DType = 'F32' | 'F16' | 'BF16';

/** A 2-D weight [rows, cols] already in its GPU form: `words` as WeightFormat describes for `format`. */
export interface PackedWeight {
  format: WeightFormat;
  words: Uint32Array;
}

/** One tensor on the CPU, row-major: decoded to f32, or (2-D weights loaded for the GPU) packed. */
export interface HostTensor {
  name: string;
  shape: number[];
  /** Original dtype in the checkpoint. */
  dtype: DType;
  /** The values as f32; empty when `packed` or `gpu` holds them. */
  data: Float32Array;
  packed?: PackedWeight;
  /** A 2-D weight already uploaded as it streamed in: its GPU parts and the host bytes it had. */
  gpu?: { parts: WeightPart[]; hostBytes: number };
}

/** Quantize-on-load choices: every 2-D weight (and the embedding) to q4 or q8 (see WeightFormat). */
export type QuantizeOption = 'q4' | 'q8';

export type LoadProgress =
  | { kind: 'fetch'; file: string; loadedBytes: number; totalBytes: number }
  | { kind: 'upload'; tensor: string; loadedBytes: number; totalBytes: number }
  | { kind: 'ready'; totalBytes: number };

export type ProgressCallback = (p: LoadProgress) => void;
