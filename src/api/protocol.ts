/**
 * The wire protocol between the page (src/client/remote.ts) and the engine worker (src/worker/host.ts):
 * what Comlink carries. Arguments are structured-cloneable data plus Comlink-proxied callbacks; see
 * host.ts for how signals, progress, streams, warnings and errors cross.
 */
import type {
  AddDocumentOptions,
  CacheAddOptions,
  CacheAddProgress,
  CacheStats,
  DocumentAddResult,
  EngineWarning,
  KVEntryMeta,
  MountOptions,
  MountResult,
  PackImportResult,
} from './cache.ts';
import type { ChatMessage, LoadProgress, ModelInfo } from './model.ts';
import type { ChatCompletion, ChatCompletionChunk, ChatCompletionRequestBase, LoadOptions } from './types.ts';

/** An error as plain data: name, message, the KVShareError code, stack and cause. */
export interface SerializedError {
  name: string;
  message: string;
  code?: string;
  stack?: string;
  cause?: SerializedError;
}

/** Load options as they cross the boundary (the callbacks and the signal travel separately). */
export type WireLoadOptions = Omit<LoadOptions, 'onProgress' | 'onWarning' | 'signal'>;

/** A chat request as it crosses the boundary (streaming is chosen by the method). */
export type WireChatRequest = Omit<ChatCompletionRequestBase, 'signal'>;

/** What a stream's sink receives, in order: any number of chunks, then end or error. */
export type StreamEvent =
  | { type: 'chunk'; chunk: ChatCompletionChunk }
  | { type: 'end' }
  | { type: 'error'; error: SerializedError };

/** A proxied callback as the host sees it: every call is a message whose reply may be awaited. */
export type ProgressSink = (p: LoadProgress) => unknown;
export type StreamSink = (e: StreamEvent) => unknown;
export type WarningSink = (w: EngineWarning) => unknown;
export type AddProgressSink = (p: CacheAddProgress) => unknown;

/** cache.add / cache.addDocument options as they cross (the callback and the signal travel separately). */
export type WireAddOptions = Omit<CacheAddOptions, 'onProgress' | 'signal'>;
export type WireAddDocumentOptions = Omit<AddDocumentOptions, 'onProgress' | 'signal'>;

/**
 * What the worker exposes. Requests a signal may abort carry an `id` chosen by the page; `abort(id)`
 * stops that request (a no-op once it has finished).
 */
export interface EngineHostApi {
  load(
    id: number,
    location: string,
    opts: WireLoadOptions,
    onProgress?: ProgressSink,
    onWarning?: WarningSink,
  ): Promise<ModelInfo>;
  chat(id: number, req: WireChatRequest): Promise<ChatCompletion>;
  /** Resolves once the answer has started (errors before the first token reject); chunks go to `sink`. */
  chatStream(id: number, req: WireChatRequest, sink: StreamSink): Promise<void>;
  abort(id: number): void;
  interruptGenerate(): Promise<void>;
  cacheAdd(
    id: number,
    input: string | ChatMessage[],
    opts: WireAddOptions,
    onProgress?: AddProgressSink,
  ): Promise<KVEntryMeta>;
  cacheAddDocument(
    id: number,
    text: string,
    opts: WireAddDocumentOptions,
    onProgress?: AddProgressSink,
  ): Promise<DocumentAddResult>;
  cacheStats(): Promise<CacheStats>;
  cacheList(): Promise<KVEntryMeta[]>;
  cacheDelete(entryId: string): Promise<boolean>;
  cacheClear(): Promise<void>;
  /** The pack's buffer is transferred to the page, not copied. */
  cacheExportPack(ids?: string[]): Promise<Uint8Array<ArrayBuffer>>;
  cacheImportPack(pack: Blob | ArrayBuffer | Uint8Array | string): Promise<PackImportResult>;
  cacheMount(url: string, opts?: MountOptions): Promise<MountResult>;
  info(): Promise<ModelInfo | null>;
  tokenPieces(ids: number[]): Promise<string[]>;
  unload(): Promise<void>;
}
