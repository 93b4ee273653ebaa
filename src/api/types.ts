/**
 * The public engine API: one interface, implemented in-thread (`createChatApi` in src/engine/chat.ts)
 * and by the worker client (`createEngine` in src/client). Everything is async so both sides look the
 * same. Chat requests are OpenAI-shaped (`chat.completions.create`), with KVShare's reuse figures in
 * `usage`.
 */
import type { PrefillPath } from '../engine/cost-model.ts';
import type { ReuseOptions, TokenFate } from '../engine/reuse.ts';
import type { FinishReason, ModelInfo } from '../engine/types.ts';
import type { KVEntryMeta } from '../kvshare/entry.ts';
import type { CacheStats } from '../kvshare/memory-cache.ts';
import type { ResidentStats } from '../llama/resident-kv.ts';
import type { ChatMessage } from '../model/tokenizer.ts';
import type { LoadProgress } from '../model/types.ts';

export type { ReuseMode, ReuseOptions, TokenFate } from '../engine/reuse.ts';
export type { FinishReason, ModelInfo } from '../engine/types.ts';
export type { KVEntryMeta } from '../kvshare/entry.ts';
export type { CacheStats } from '../kvshare/memory-cache.ts';
export type { ChatMessage } from '../model/tokenizer.ts';
export type { LoadProgress } from '../model/types.ts';

/**
 * Something the engine wants the application to know but that fails no request: the persistent KV
 * store went memory-only (`unavailable`: no IndexedDB, e.g. private mode; `quota`: storage full even
 * after evicting), an entry failed its checks and was deleted (`corrupt`), an entry is larger than the
 * persisted budget (`budget`), or another storage error (`io`).
 */
export interface EngineWarning {
  kind: 'unavailable' | 'quota' | 'corrupt' | 'budget' | 'io';
  message: string;
  /** The cache entry concerned, if any. */
  id?: string;
}

/** Where KV cache entries live besides memory. */
export interface PersistenceOptions {
  /** 'indexeddb' (the browser default when IndexedDB exists) or 'memory' (nothing persisted). */
  backend?: 'indexeddb' | 'memory';
  /** IndexedDB database name (default 'kvshare'); pages sharing it share entries across tabs. */
  dbName?: string;
  /** Most payload bytes kept in IndexedDB (default 512 MiB; also capped by half the free quota). */
  budgetBytes?: number;
}

/** Cache figures: the memory tier's, plus the persistent store's when there is one. */
export interface EngineCacheStats extends CacheStats, ResidentStats {
  /** True when entries are written to IndexedDB (false: memory only, by choice or after a warning). */
  persistent: boolean;
  persistedEntries: number;
  persistedBytes: number;
  /** Entries deleted because they failed their checks (checksum, shapes, lengths). */
  corruptDeleted: number;
}

/** What importPack() stored. */
export interface PackImportResult {
  /** Ids of the imported entries, in pack order. */
  ids: string[];
  /** Ids of pack entries the cache already held: those were kept unchanged and not imported. */
  skipped: string[];
}

export interface EngineLoadOptions {
  /** Positions of KV cache to allocate (default min(max_position_embeddings, 2048)). */
  contextLength?: number;
  /** Rows per forward step during prefill (default 128). */
  maxRows?: number;
  /** Bytes of KV entries kept in memory (default 256 MiB). */
  cacheBudgetBytes?: number;
  /** Bytes of KV entries also kept on the GPU (hot tier: hits patched GPU→GPU; default 128 MiB). */
  gpuCacheBudgetBytes?: number;
  /** Default reuse settings of every request (default: mode 'kvshare'). */
  reuse?: ReuseOptions;
  /** Called as model files download and tensors upload; the last event has kind 'ready'. */
  onProgress?: (p: LoadProgress) => void;
  signal?: AbortSignal;
  /** Persistent KV cache (browser default: IndexedDB when available). */
  persistence?: PersistenceOptions;
  /** Called for every EngineWarning while this model is loaded. */
  onWarning?: (w: EngineWarning) => void;
}

/** Fields shared by streaming and non-streaming chat requests. */
export interface ChatCompletionRequestBase {
  messages: ChatMessage[];
  /** Tokens to generate at most (default: the smaller of 128 and what is left of the context). */
  max_tokens?: number;
  /** 0 (the default) is greedy decoding. */
  temperature?: number;
  top_p?: number;
  top_k?: number;
  seed?: number;
  /** Strings that end the answer; the answer is cut before the first one. */
  stop?: string | string[];
  /** KV reuse for this request (overrides the engine default given to load()). */
  reuse?: ReuseOptions;
  /**
   * Aborting stops the request: one already producing tokens ends with finish_reason 'abort'; one
   * not yet started rejects with AbortError.
   */
  signal?: AbortSignal;
}

export interface ChatCompletionRequestNonStreaming extends ChatCompletionRequestBase {
  stream?: false;
}

export interface ChatCompletionRequestStreaming extends ChatCompletionRequestBase {
  stream: true;
}

export type ChatCompletionRequest = ChatCompletionRequestNonStreaming | ChatCompletionRequestStreaming;

export interface ChatCompletionUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  /** Prompt tokens whose K/V came from the cache. */
  reused_tokens: number;
  /** Prompt tokens computed before the first token. */
  recomputed_tokens: number;
  time_to_first_token_ms: number;
  /** Estimated time to the first token of a full prefill of this prompt on this device. */
  estimated_full_prefill_ms: number;
  /** How the prompt was filled: 'full', 'prefix', 'naive' or 'scored' (see ReuseStats.path). */
  prefill_path: PrefillPath;
  /** Cache entries the prompt reused K/V from. */
  entry_ids: string[];
  /** Per prompt token: 'reused', 'recomputed' (selected by deviation) or 'new' (no source). */
  token_fates: TokenFate[];
  /** The prompt's token ids (what the chat template made of the messages). */
  prompt_token_ids: number[];
}

export interface ChatCompletionMessage {
  role: 'assistant';
  content: string;
}

export interface ChatCompletionChoice {
  index: number;
  message: ChatCompletionMessage;
  finish_reason: FinishReason;
}

export interface ChatCompletion {
  id: string;
  object: 'chat.completion';
  /** Unix time in seconds. */
  created: number;
  /** The model folder's name, e.g. 'stories260K-hf'. */
  model: string;
  choices: ChatCompletionChoice[];
  usage: ChatCompletionUsage;
}

export interface ChatCompletionDelta {
  /** Only on the first chunk of an answer. */
  role?: 'assistant';
  /** New text since the previous chunk; the concatenation of every chunk's content is the answer. */
  content: string;
}

export interface ChatCompletionChunkChoice {
  index: number;
  delta: ChatCompletionDelta;
  /** null on every chunk but the last. */
  finish_reason: FinishReason | null;
}

export interface ChatCompletionChunk {
  id: string;
  object: 'chat.completion.chunk';
  created: number;
  model: string;
  choices: ChatCompletionChunkChoice[];
  /** Only on the last chunk. */
  usage?: ChatCompletionUsage;
}

export interface ChatCompletionsApi {
  /**
   * Answers a chat. With `stream: true` the promise resolves once the answer has started (errors
   * found before the first token reject it) to an iterable of chunks; breaking out of the iteration
   * aborts the request.
   */
  create(req: ChatCompletionRequestStreaming): Promise<AsyncIterable<ChatCompletionChunk>>;
  create(req: ChatCompletionRequestNonStreaming): Promise<ChatCompletion>;
  create(req: ChatCompletionRequest): Promise<ChatCompletion | AsyncIterable<ChatCompletionChunk>>;
}

/** The KV cache of the loaded model. */
export interface EngineCacheApi {
  stats(): Promise<EngineCacheStats>;
  list(): Promise<KVEntryMeta[]>;
  delete(id: string): Promise<boolean>;
  /** Delete every entry of the loaded model (memory and IndexedDB). */
  clear(): Promise<void>;
  /**
   * A KV pack: a versioned binary blob (magic, format version, model fingerprint, entry table, then
   * payloads) of the loaded model's entries (all, or `ids`). Ship it with a site so first-time
   * visitors get hits.
   */
  exportPack(ids?: string[]): Promise<Uint8Array<ArrayBuffer>>;
  /**
   * Validates a pack (magic, version, fingerprint, shapes and lengths, size caps) before storing
   * anything, then stores its entries. A string is fetched as a URL. Throws CachePackError.
   */
  importPack(pack: Blob | ArrayBuffer | Uint8Array | string): Promise<PackImportResult>;
}

/** One model at a time; requests are served one after another in the order they were made. */
export interface EngineApi {
  load(location: string, opts?: EngineLoadOptions): Promise<ModelInfo>;
  readonly chat: { readonly completions: ChatCompletionsApi };
  /** Stop the request being served now (it finishes with finish_reason 'abort'); queued ones still run. */
  interruptGenerate(): Promise<void>;
  readonly cache: EngineCacheApi;
  /** The loaded model, or null. */
  info(): Promise<ModelInfo | null>;
  /** Each token id decoded on its own (special tokens kept), e.g. to show a prompt token by token. */
  tokenPieces(ids: number[]): Promise<string[]>;
  /** Free every GPU buffer and the device. */
  unload(): Promise<void>;
}
