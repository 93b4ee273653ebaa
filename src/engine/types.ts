import type { EngineWarning, PersistenceOptions } from '../api/types.ts';
import type { LoadProgress, ModelConfig, QuantizeOption } from '../model/types.ts';
import type { ReuseOptions, ReuseStats } from './reuse.ts';
import type { SamplingOptions } from './sampler.ts';

export interface LoadOptions {
  /** Positions of KV cache to allocate (default min(max_position_embeddings, 2048)). */
  contextLength?: number;
  /** Rows per forward step during prefill (default 128). */
  maxRows?: number;
  onProgress?: (p: LoadProgress) => void;
  signal?: AbortSignal;
  /** Bytes of KV entries kept in memory, least recently used evicted first (default 256 MiB). */
  cacheBudgetBytes?: number;
  /** Bytes of KV entries also kept on the GPU (hot tier: hits patched GPU→GPU; default 128 MiB). */
  gpuCacheBudgetBytes?: number;
  /** Default reuse settings of every request (default: mode 'kvshare', r 0.15, trickle 3). */
  reuse?: ReuseOptions;
  /** Persistent KV cache, where the platform has one (browsers: IndexedDB). */
  persistence?: PersistenceOptions;
  /** Called for every EngineWarning while this model is loaded. */
  onWarning?: (w: EngineWarning) => void;
  /** Quantize every 2-D weight as it streams in (group 32: 'q8' 8.5 bits, 'q4' 4.5 bits per weight). */
  quantize?: QuantizeOption;
}

export interface GenerateOptions extends SamplingOptions {
  /** Tokens to generate at most (default 128). */
  maxNewTokens?: number;
  /** Extra token ids that end generation (the model's EOS ids always do). */
  stopTokenIds?: number[];
  /** Keep generating past EOS (benchmarks). */
  ignoreEos?: boolean;
  /** Strings that end generation; the text is cut before the first one. */
  stop?: string[];
  /** Add the tokenizer's special tokens (e.g. BOS) to a text prompt (default true). */
  addSpecialTokens?: boolean;
  signal?: AbortSignal;
  /** KV reuse for this request (overrides the engine default). */
  reuse?: ReuseOptions;
  /** Store the prompt's K/V as a cache entry afterwards (default true). */
  cachePrompt?: boolean;
}

/** A prompt as text (tokenized with special tokens) or as token ids used verbatim. */
export type PromptInput = string | { tokenIds: number[] };

export interface GenerationStats {
  promptTokens: number;
  newTokens: number;
  /** Time of the prompt's forward pass. */
  prefillMs: number;
  /** From the call to the first generated token. */
  ttftMs: number;
  decodeMs: number;
  prefillTokensPerSec: number;
  decodeTokensPerSec: number;
}

export type FinishReason = 'stop' | 'length' | 'abort';

export interface GenerateResult {
  /** The generated continuation only (not the prompt). */
  text: string;
  tokenIds: number[];
  promptTokenIds: number[];
  finishReason: FinishReason;
  stats: GenerationStats;
  reuse: ReuseStats;
}

export interface GenerateChunk {
  /** New text since the previous chunk. */
  text: string;
  tokenId: number;
}

export interface ModelInfo {
  location: string;
  config: ModelConfig;
  /** Hex SHA-256 of config and weights; KV cache entries are keyed to it. */
  fingerprint: string;
  adapter: string;
  contextLength: number;
  weightBytes: number;
  kvCacheBytes: number;
}
