/**
 * The public vocabulary of models: what a loaded model is, how loading reports progress, and what a
 * chat message looks like. Like everything in src/api, a leaf: it imports nothing from the engine.
 */

/** Normalised hyper-parameters of a Llama-family decoder (Llama, Mistral, SmolLM2, TinyLlama, Qwen2). */
export interface ModelConfig {
  /** 'llama' | 'mistral' | 'qwen2' | 'qwen3' | 'phi3' — the config's model_type. */
  modelType: 'llama' | 'mistral' | 'qwen2' | 'qwen3' | 'phi3';
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
  /** RMSNorm of each query and key head (weights q_norm / k_norm [headDim]) before RoPE (Qwen3); absent = none. */
  qkNorm?: true;
  /** Scaled RoPE frequencies; absent = plain RoPE (inverse frequency theta^(-2i/headDim)). */
  ropeScaling?: RopeScaling;
  /**
   * Dimensions of each head RoPE rotates (Phi-4-mini's partial_rotary_factor 0.75 × headDim), the
   * first ones of the Hugging Face head; absent = headDim.
   */
  rotaryDim?: number;
  bosTokenId: number | null;
  eosTokenIds: number[];
}

/**
 * How RoPE's inverse frequencies theta^(-2i/headDim), i < headDim/2, are scaled:
 * - `linear`: all divided by `factor`;
 * - `llama3`: Llama 3.1's frequency-dependent scaling (wavelengths above originalMaxPositions /
 *   lowFreqFactor divided by `factor`, below originalMaxPositions / highFreqFactor kept, smoothly
 *   blended between);
 * - `divisors`: each divided by its own divisor [headDim/2] (llama.cpp's `rope_freqs.weight`, which its
 *   converter writes for `llama3`).
 * - `longrope` (Phi-3): each divided by its own factor [rotaryDim/2], the long ones when the context
 *   exceeds originalMaxPositions, else the short ones; queries and keys are also scaled by
 *   attentionFactor (so the attention scores by its square).
 */
export type RopeScaling =
  | { type: 'linear'; factor: number }
  | {
      type: 'llama3';
      factor: number;
      lowFreqFactor: number;
      highFreqFactor: number;
      originalMaxPositions: number;
    }
  | { type: 'divisors'; divisors: number[] }
  | {
      type: 'longrope';
      shortFactor: number[];
      longFactor: number[];
      originalMaxPositions: number;
      attentionFactor: number;
    };

/** Quantize-on-load choices: every 2-D weight (and the embedding) to q4 or q8 (group 32). */
export type QuantizeOption = 'q4' | 'q8';

/**
 * How K/V values are stored on the GPU, in memory, IndexedDB and packs: float32, IEEE half (half the
 * bytes), or q8: int8 codes with one f32 scale per 32 values (0.28× the bytes; K/V rows need a
 * multiple of 32 values).
 */
export type KVDtype = 'f32' | 'f16' | 'q8';

export type LoadProgress =
  | { kind: 'fetch'; file: string; loadedBytes: number; totalBytes: number }
  | { kind: 'upload'; tensor: string; loadedBytes: number; totalBytes: number }
  | { kind: 'ready'; totalBytes: number };

export interface ModelInfo {
  location: string;
  config: ModelConfig;
  /** Hex SHA-256 of config and weights; KV cache entries are keyed to it. */
  fingerprint: string;
  adapter: string;
  contextLength: number;
  weightBytes: number;
  /** Bytes of the live KV cache on the GPU (contextLength positions). */
  kvCacheBytes: number;
  /** How K/V are stored (LoadOptions.kvDtype). */
  kvDtype: KVDtype;
}

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

/** Why an answer ended: a stop token or string, the token limit, or an abort. */
export type FinishReason = 'stop' | 'length' | 'abort';
