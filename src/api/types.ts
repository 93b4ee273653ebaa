/**
 * The public engine API: one interface, `EngineApi`, returned by every factory — `createEngine()`
 * (src/client: the engine in a Web Worker), `createInThreadEngine()` (src/browser) and
 * `createNodeEngine()` (src/node) — and implemented once in-thread by `createChatApi` (src/engine/chat.ts).
 * Everything is async so both sides of the worker look the same. Chat requests are OpenAI-shaped
 * (`chat.completions.create`), with KVShare's reuse figures in `usage`.
 *
 * src/api is a leaf: it imports nothing from the rest of src/, so the engine, the worker protocol
 * (protocol.ts) and applications all speak this one vocabulary. The error classes stay in
 * src/errors.ts, itself a leaf (test/api/layers.test.ts checks both).
 */
import type { EngineCacheApi, EngineWarning, PersistenceOptions } from './cache.ts';
import type { ChatMessage, FinishReason, KVDtype, LoadProgress, ModelInfo, QuantizeOption } from './model.ts';
import type { PrefillPath, ReuseOptions, TokenFate } from './reuse-options.ts';

export type * from './cache.ts';
export type * from './model.ts';
export type * from './reuse-options.ts';

export interface LoadOptions {
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
  /** Quantize every 2-D weight as it streams in (group 32: 'q8' 8.5 bits, 'q4' 4.5 bits per weight). */
  quantize?: QuantizeOption;
  /**
   * How K/V are stored on the GPU, in memory, IndexedDB and packs (default 'f16': half the bytes of
   * 'f32'; arithmetic stays f32; 'q8': int8 codes with a scale per group of up to 32 values of one
   * head, 0.28× of 'f32' on heads of 64 and more, for head sizes that are a multiple of 4). Cache
   * entries of another dtype or q8 group (e.g. packs written by 'f32') are converted as they come in.
   * Models whose head size is not a multiple of 4 default to 'f32'.
   */
  kvDtype?: KVDtype;
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
   * Trusted messages only: let message contents hold special tokens (a content spelling
   * `<|im_end|>` becomes that token, as transformers.js renders chats). Default false: contents
   * are plain text and only the chat template writes turn markers.
   */
  special_tokens_in_content?: boolean;
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

/** One model at a time; requests are served one after another in the order they were made. */
export interface EngineApi {
  load(location: string, opts?: LoadOptions): Promise<ModelInfo>;
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
