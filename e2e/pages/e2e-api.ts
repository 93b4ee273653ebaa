/**
 * What the browser-test page (main.ts) puts on `window.kvshareE2E`; the Node side of the test calls
 * these through `page.evaluate`. Every result is plain JSON.
 */
import type {
  CacheStats,
  ChatCompletion,
  ChatCompletionRequestNonStreaming,
  ChatMessage,
  EngineWarning,
  KVEntryMeta,
  ModelInfo,
} from '../../src/api/types.ts';

export interface LoadReport {
  info: ModelInfo;
  progressEvents: number;
  lastKind: string;
  /** loadedBytes never went down within a kind. */
  monotonic: boolean;
  /** Whether this page's own thread has WebGPU (the engine uses the worker's). */
  pageHasGpu: boolean;
}

export interface StreamReport {
  chunks: number;
  content: string;
  firstRole: string | null;
  /** Every chunk but the last has finish_reason null and no usage. */
  wellFormed: boolean;
  finishReason: string | null;
  usage: ChatCompletion['usage'] | null;
}

export interface ErrorReport {
  /** `err instanceof <the expected class>` evaluated on the page. */
  instanceOfExpected: boolean;
  instanceOfKVShareError: boolean;
  name: string;
  code: string | null;
  message: string;
}

export type ChatRequest = Omit<ChatCompletionRequestNonStreaming, 'signal'>;

export interface E2EApi {
  load(url: string, contextLength: number): Promise<LoadReport>;
  complete(req: ChatRequest): Promise<ChatCompletion>;
  stream(req: ChatRequest): Promise<StreamReport>;
  /** Streams, aborts the request's AbortSignal after `after` chunks, and reads on to the end. */
  streamAndAbort(req: ChatRequest, after: number): Promise<StreamReport>;
  /** A chat with no messages on the loaded engine (EmptyPromptError expected). */
  emptyChatError(): Promise<ErrorReport>;
  /** A chat on a second engine (worker) that has loaded nothing (EngineNotLoadedError expected). */
  notLoadedError(messages: ChatMessage[]): Promise<ErrorReport>;
  cacheEntries(): Promise<number>;
  cacheStats(): Promise<CacheStats>;
  cacheList(): Promise<KVEntryMeta[]>;
  /** Export a pack and keep it on the page; returns its byte length. */
  exportPack(): Promise<number>;
  clearCache(): Promise<void>;
  /** Import the kept pack (as a Blob, so it stays usable); returns the imported ids. */
  importPack(): Promise<string[]>;
  /** Import the kept pack with one byte of its magic changed (CachePackError expected). */
  importCorruptPack(): Promise<ErrorReport>;
  tokenPieces(ids: number[]): Promise<string[]>;
  warnings(): EngineWarning[];
  /** unload(), then info() and a chat (EngineNotLoadedError expected). */
  unload(): Promise<{ infoAfter: ModelInfo | null; chatAfter: ErrorReport }>;
}

declare global {
  interface Window {
    kvshareE2E: E2EApi;
  }
}
