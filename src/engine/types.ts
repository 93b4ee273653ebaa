import type { FinishReason } from '../api/types.ts';
import type { ReuseOptions, ReuseStats } from './prefill.ts';
import type { SamplingOptions } from './sampler.ts';

export type { FinishReason, LoadOptions, ModelInfo } from '../api/types.ts';

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
