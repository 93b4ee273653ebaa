/**
 * The worker side of the engine (the wire protocol is src/api/protocol.ts): an EngineHost wraps an in-thread EngineApi and is what Comlink
 * exposes. Its methods take only structured-cloneable arguments plus Comlink-proxied callbacks, so
 * the client (src/client/remote.ts) can turn them back into the EngineApi:
 *
 * - AbortSignal: the client numbers each request and calls `abort(id)` when its signal fires; the
 *   host holds one AbortController per request id.
 * - Progress: a proxied callback; the host waits for the last delivery before load() returns, so
 *   every event arrives before the result.
 * - Streams: a proxied sink receives {chunk}… then {end} or {error}; each delivery is awaited, so
 *   chunks keep their order and the engine never waits on the page.
 * - Errors: thrown ones keep their class through the transfer handler of error-transfer.ts; a
 *   stream's error is sent to the sink as a SerializedError.
 *
 * - Warnings: a proxied callback kept while the model is loaded (released by the next load/unload).
 * - Large buffers (KV packs) cross with `Comlink.transfer`, so they move instead of being copied.
 */
import * as Comlink from 'comlink';
import type {
  AddProgressSink,
  EngineHostApi,
  ProgressSink,
  StreamSink,
  WarningSink,
  WireAddDocumentOptions,
  WireAddOptions,
  WireChatRequest,
  WireLoadOptions,
} from '../api/protocol.ts';
import type {
  CacheStats,
  ChatCompletion,
  ChatCompletionChunk,
  ChatMessage,
  DocumentAddResult,
  EngineApi,
  KVEntryMeta,
  ModelInfo,
  MountOptions,
  MountResult,
  PackImportResult,
} from '../api/types.ts';
import { withCode } from '../errors.ts';
import { registerErrorTransfer, serializeError } from './error-transfer.ts';

export class EngineHost implements EngineHostApi {
  private readonly requests = new Map<number, AbortController>();
  /** The page's warning callback of the loaded model; released on the next load and on unload. */
  private warnings: WarningSink | undefined;

  constructor(private readonly api: EngineApi) {}

  async load(
    id: number,
    location: string,
    opts: WireLoadOptions,
    onProgress?: ProgressSink,
    onWarning?: WarningSink,
  ): Promise<ModelInfo> {
    const signal = this.begin(id);
    let last: unknown;
    release(this.warnings);
    this.warnings = onWarning;
    try {
      return await coded(
        this.api.load(location, {
          ...opts,
          signal,
          onProgress:
            onProgress &&
            ((p) => {
              last = onProgress(p);
            }),
          onWarning:
            onWarning &&
            ((w) => {
              // A warning never waits on the page, and a page that is gone is no error.
              if (this.warnings === onWarning) void Promise.resolve(onWarning(w)).catch(() => undefined);
            }),
        }),
      );
    } finally {
      // Replies come back in order: once the last one is in, every progress event was delivered.
      await Promise.resolve(last).catch(() => undefined);
      release(onProgress);
      this.requests.delete(id);
    }
  }

  async chat(id: number, req: WireChatRequest): Promise<ChatCompletion> {
    const signal = this.begin(id);
    try {
      return await coded(() => this.api.chat.completions.create({ ...req, stream: false, signal }));
    } finally {
      this.requests.delete(id);
    }
  }

  /** Resolves once the answer has started (errors before the first token reject); chunks go to `sink`. */
  async chatStream(id: number, req: WireChatRequest, sink: StreamSink): Promise<void> {
    const signal = this.begin(id);
    let stream: AsyncIterable<ChatCompletionChunk>;
    try {
      stream = await this.api.chat.completions.create({ ...req, stream: true, signal });
    } catch (e) {
      this.requests.delete(id);
      release(sink);
      throw withCode(e);
    }
    void this.pump(id, stream, sink);
  }

  private async pump(
    id: number,
    stream: AsyncIterable<ChatCompletionChunk>,
    sink: StreamSink,
  ): Promise<void> {
    try {
      for await (const chunk of stream) await sink({ type: 'chunk', chunk });
      await sink({ type: 'end' });
    } catch (e) {
      // The engine failed, or the page is gone: stop generating, and tell the page if it listens.
      this.requests.get(id)?.abort();
      await Promise.resolve(sink({ type: 'error', error: serializeError(withCode(e)) })).catch(
        () => undefined,
      );
    } finally {
      release(sink);
      this.requests.delete(id);
    }
  }

  /** Abort request `id` (a no-op when it has finished). */
  abort(id: number): void {
    this.requests.get(id)?.abort();
  }

  interruptGenerate(): Promise<void> {
    return coded(() => this.api.interruptGenerate());
  }

  cacheAdd(
    id: number,
    input: string | ChatMessage[],
    opts: WireAddOptions,
    onProgress?: AddProgressSink,
  ): Promise<KVEntryMeta> {
    return this.withProgress(id, onProgress, (signal, progress) =>
      this.api.cache.add(input, { ...opts, signal, onProgress: progress }),
    );
  }

  cacheAddDocument(
    id: number,
    text: string,
    opts: WireAddDocumentOptions,
    onProgress?: AddProgressSink,
  ): Promise<DocumentAddResult> {
    return this.withProgress(id, onProgress, (signal, progress) =>
      this.api.cache.addDocument(text, { ...opts, signal, onProgress: progress }),
    );
  }

  /** Request `id` with an abort signal and a proxied progress callback whose deliveries finish before it returns. */
  private async withProgress<T, P>(
    id: number,
    onProgress: ((p: P) => unknown) | undefined,
    run: (signal: AbortSignal, progress: ((p: P) => void) | undefined) => Promise<T>,
  ): Promise<T> {
    const signal = this.begin(id);
    let last: unknown;
    try {
      const progress =
        onProgress &&
        ((p: P) => {
          last = onProgress(p);
        });
      return await coded(() => run(signal, progress));
    } finally {
      await Promise.resolve(last).catch(() => undefined);
      release(onProgress);
      this.requests.delete(id);
    }
  }

  cacheMount(url: string, opts?: MountOptions): Promise<MountResult> {
    return coded(() => this.api.cache.mount(url, opts));
  }

  cacheStats(): Promise<CacheStats> {
    return coded(() => this.api.cache.stats());
  }

  cacheList(): Promise<KVEntryMeta[]> {
    return coded(() => this.api.cache.list());
  }

  cacheDelete(entryId: string): Promise<boolean> {
    return coded(() => this.api.cache.delete(entryId));
  }

  cacheClear(): Promise<void> {
    return coded(() => this.api.cache.clear());
  }

  /** The pack's buffer is transferred to the page, not copied. */
  async cacheExportPack(ids?: string[]): Promise<Uint8Array<ArrayBuffer>> {
    const bytes = await coded(() => this.api.cache.exportPack(ids));
    return Comlink.transfer(bytes, [bytes.buffer]);
  }

  cacheImportPack(pack: Blob | ArrayBuffer | Uint8Array | string): Promise<PackImportResult> {
    return coded(() => this.api.cache.importPack(pack));
  }

  info(): Promise<ModelInfo | null> {
    return coded(() => this.api.info());
  }

  tokenPieces(ids: number[]): Promise<string[]> {
    return coded(() => this.api.tokenPieces(ids));
  }

  async unload(): Promise<void> {
    release(this.warnings);
    this.warnings = undefined;
    return coded(() => this.api.unload());
  }

  private begin(id: number): AbortSignal {
    const ac = new AbortController();
    this.requests.set(id, ac);
    return ac.signal;
  }
}

/** Serve `api` over `endpoint` (default: the worker's global scope). */
export function exposeEngine(api: EngineApi, endpoint?: Comlink.Endpoint): EngineHost {
  registerErrorTransfer();
  const host = new EngineHost(api);
  Comlink.expose(host, endpoint);
  return host;
}

/**
 * The result of `run`, with every failure given a code: a KVShareError passes as it is, anything else
 * (a bug of ours, even a synchronous throw) becomes an InternalError whose cause is the original.
 */
async function coded<T>(run: Promise<T> | (() => Promise<T>)): Promise<T> {
  try {
    return await (typeof run === 'function' ? run() : run);
  } catch (e) {
    throw withCode(e);
  }
}

/** Close the port of a proxied callback (a plain function, e.g. in-thread, has nothing to close). */
function release(callback: object | undefined): void {
  const r = (callback as Partial<Comlink.ProxyMethods> | undefined)?.[Comlink.releaseProxy];
  if (typeof r === 'function') r();
}
