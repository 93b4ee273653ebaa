/**
 * The public vocabulary of models: what a loaded model is, how loading reports progress, and what a
 * chat message looks like. Like everything in src/api, a leaf: it imports nothing from the engine.
 */

/** Normalised hyper-parameters of a Llama-family decoder (Llama, Mistral, SmolLM2, TinyLlama, Qwen2). */
export interface ModelConfig {
  /** The config's model_type ('gemma3' also for `gemma3_text`, the text model of Gemma 3). */
  modelType: 'llama' | 'mistral' | 'qwen2' | 'qwen3' | 'phi3' | 'gemma2' | 'gemma3';
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
  /**
   * Sliding-window attention: a row attends itself and the `slidingWindow` − 1 positions before it,
   * in every layer (Mistral) or, with `slidingWindowPattern` n, in layer l when l % n < n − 1
   * (Gemma 2: n = 2, the even layers; Gemma 3: n = 6, five of six); absent = full attention.
   */
  slidingWindow?: number;
  slidingWindowPattern?: number;
  /** RoPE base of the sliding-window layers, unscaled (Gemma 3's rope_local_base_freq); absent = ropeTheta. */
  ropeLocalTheta?: number;
  /**
   * The Gemma block (Gemma 2 / 3): embeddings × √hiddenSize (f32), RMSNorm weights used as (1 + w)
   * (added at load from safetensors; GGUF files hold 1 + w already), RMSNorm after attention and
   * after the MLP (post_attention_layernorm / post_feedforward_layernorm; pre_feedforward_layernorm
   * before the MLP), GeGLU with tanh GELU.
   */
  gemma?: true;
  /** Attention score scale; absent = 1/√headDim (Gemma: query_pre_attn_scalar^−½). */
  attentionScale?: number;
  /** Attention logit soft-capping c (score → c·tanh(score / c)); absent = none (Gemma 2: 50). */
  attnLogitSoftcap?: number;
  /** Final logit soft-capping c (logit → c·tanh(logit / c)); absent = none (Gemma 2: 30). */
  finalLogitSoftcap?: number;
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
 * bytes), or q8: int8 codes with one f32 scale per group of G values, G the largest multiple of 4 up
 * to 32 that divides the head size, so a group never spans two heads (heads of 64 and more: G = 32,
 * 0.28× the bytes; heads of 8: G = 8, 0.375×; the head size must be a multiple of 4).
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
