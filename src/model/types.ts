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

/** One tensor decoded to f32 on the CPU, row-major. */
export interface HostTensor {
  name: string;
  shape: number[];
  /** Original dtype in the checkpoint (data is always converted to f32). */
  dtype: DType;
  data: Float32Array;
}

export type LoadProgress =
  | { kind: 'fetch'; file: string; loadedBytes: number; totalBytes: number }
  | { kind: 'upload'; tensor: string; loadedBytes: number; totalBytes: number }
  | { kind: 'ready'; totalBytes: number };

export type ProgressCallback = (p: LoadProgress) => void;
