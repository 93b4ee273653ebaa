/**
 * The EngineApi over a Comlink endpoint served by an EngineHost (src/worker/host.ts): a Web Worker in
 * browsers, any MessagePort in tests. See host.ts for how signals, progress, streams and errors cross.
 */
import * as Comlink from 'comlink';
import type { EngineHostApi, StreamEvent } from '../api/protocol.ts';
import type {
  ChatCompletion,
  ChatCompletionChunk,
  ChatCompletionRequest,
  ChatCompletionRequestNonStreaming,
  ChatCompletionRequestStreaming,
  EngineApi,
  LoadOptions,
  ModelInfo,
} from '../api/types.ts';
import { AbortError, EngineWorkerError, InvalidArgumentError } from '../errors.ts';
import { AsyncQueue } from '../util/queue.ts';
import { checkSignal } from '../util/signal.ts';
import { deserializeError, registerErrorTransfer } from '../worker/error-transfer.ts';

/** The engine in a worker: the EngineApi, plus a way to stop the worker. */
export interface EngineClient extends EngineApi {
  /**
   * Stop the worker now; everything it held (the GPU device included) goes with it. Calls in flight
   * and later calls reject with EngineWorkerError. Prefer `unload()` to free the GPU and keep the worker.
   */
  terminate(): void;
}

export interface WrapOptions {
  /** Stops the other side (e.g. `worker.terminate()`); called by `terminate()`. */
  terminate?: () => void;
  /** Hands over a function to call when the other side has failed for good (e.g. a worker 'error' event). */
  onFatal?: (fail: (message: string) => void) => void;
}

type Host = Comlink.Remote<EngineHostApi>;

export function wrapEngine(endpoint: Comlink.Endpoint, opts: WrapOptions = {}): EngineClient {
  registerErrorTransfer();
  const remote: Host = Comlink.wrap<EngineHostApi>(endpoint);
  let nextId = 1;
  let failure: EngineWorkerError | null = null;
  /** Rejecters of calls in flight and closers of open streams: all run when the worker fails. */
  const inFlight = new Set<(e: Error) => void>();

  const fail = (e: EngineWorkerError) => {
    if (failure) return;
    failure = e;
    for (const reject of [...inFlight]) reject(e);
    inFlight.clear();
  };
  opts.onFatal?.((message) => fail(new EngineWorkerError(message)));

  /** One call to the host, failing fast once the worker has failed. */
  const call = <T>(run: (host: Host) => Promise<T>): Promise<T> => {
    if (failure) return Promise.reject(failure);
    return new Promise<T>((resolve, reject) => {
      inFlight.add(reject);
      run(remote).then(
        (v) => {
          inFlight.delete(reject);
          resolve(v);
        },
        (e: unknown) => {
          inFlight.delete(reject);
          reject(clientError(e));
        },
      );
    });
  };

  /** Relay `signal` to the host's request `id`; returns the unsubscriber. */
  const listen = (signal: AbortSignal | undefined, id: number): (() => void) => {
    if (!signal) return () => undefined;
    const onAbort = () => void call((h) => h.abort(id)).catch(() => undefined);
    signal.addEventListener('abort', onAbort, { once: true });
    return () => signal.removeEventListener('abort', onAbort);
  };

  /** A request that a signal may abort: posted first, then the signal is relayed (same port, in order). */
  const request = async <T>(signal: AbortSignal | undefined, run: (host: Host, id: number) => Promise<T>) => {
    checkSignal('signal', signal);
    if (signal?.aborted) throw new AbortError();
    const id = nextId++;
    const result = call((h) => run(h, id));
    const unlisten = listen(signal, id);
    try {
      return await result;
    } finally {
      unlisten();
    }
  };

  const load = (location: string, o: LoadOptions = {}): Promise<ModelInfo> => {
    const { onProgress, onWarning, signal, ...wire } = o;
    const url = resolveLocation(location);
    return request(signal, (h, id) =>
      h.load(id, url, wire, onProgress && Comlink.proxy(onProgress), onWarning && Comlink.proxy(onWarning)),
    );
  };

  const complete = (req: ChatCompletionRequestNonStreaming): Promise<ChatCompletion> => {
    const { signal, stream: _, ...wire } = req;
    return request(signal, (h, id) => h.chat(id, wire));
  };

  const stream = async (req: ChatCompletionRequestStreaming): Promise<AsyncIterable<ChatCompletionChunk>> => {
    const { signal, stream: _, ...wire } = req;
    checkSignal('signal', signal);
    if (signal?.aborted) throw new AbortError();
    const id = nextId++;
    const queue = new AsyncQueue<ChatCompletionChunk>();
    let open = true;
    let unlisten: () => void = () => undefined;
    const close = (e?: Error) => {
      if (!open) return;
      open = false;
      unlisten();
      inFlight.delete(close);
      if (e) queue.fail(e);
      else queue.close();
    };
    const sink = Comlink.proxy((ev: StreamEvent) => {
      if (!open) return;
      if (ev.type === 'chunk') queue.push(ev.chunk);
      else close(ev.type === 'error' ? deserializeError(ev.error) : undefined);
    });
    const started = call((h) => h.chatStream(id, wire, sink));
    unlisten = listen(signal, id);
    inFlight.add(close);
    try {
      await started;
    } catch (e) {
      close();
      throw e;
    }
    return (async function* () {
      try {
        yield* queue;
      } finally {
        // Broken out of early: stop this request on the worker.
        if (open) {
          close();
          void call((h) => h.abort(id)).catch(() => undefined);
        }
      }
    })();
  };

  function create(req: ChatCompletionRequestStreaming): Promise<AsyncIterable<ChatCompletionChunk>>;
  function create(req: ChatCompletionRequestNonStreaming): Promise<ChatCompletion>;
  function create(req: ChatCompletionRequest): Promise<ChatCompletion | AsyncIterable<ChatCompletionChunk>>;
  function create(req: ChatCompletionRequest): Promise<ChatCompletion | AsyncIterable<ChatCompletionChunk>> {
    return req.stream ? stream(req) : complete(req);
  }

  return {
    load,
    chat: { completions: { create } },
    interruptGenerate: () => call((h) => h.interruptGenerate()),
    cache: {
      add: (input, o = {}) => {
        if (typeof o !== 'object' || o === null)
          return Promise.reject(new InvalidArgumentError('options must be an object'));
        const { onProgress, signal, ...wire } = o;
        return request(signal, (h, id) =>
          h.cacheAdd(id, input, wire, onProgress && Comlink.proxy(onProgress)),
        );
      },
      addDocument: (text, o) => {
        if (typeof o !== 'object' || o === null)
          return Promise.reject(new InvalidArgumentError('options must be an object'));
        const { onProgress, signal, ...wire } = o;
        return request(signal, (h, id) =>
          h.cacheAddDocument(id, text, wire, onProgress && Comlink.proxy(onProgress)),
        );
      },
      // A relative URL is resolved against the page, as a model location is.
      mount: (url, opts) =>
        call((h) => h.cacheMount(typeof url === 'string' ? resolveLocation(url) : url, opts)),
      stats: () => call((h) => h.cacheStats()),
      list: () => call((h) => h.cacheList()),
      delete: (entryId) => call((h) => h.cacheDelete(entryId)),
      clear: () => call((h) => h.cacheClear()),
      exportPack: (ids) => call((h) => h.cacheExportPack(ids)),
      importPack: (pack) => {
        // Bytes move to the worker instead of being copied (the caller's buffer is detached).
        if (pack instanceof ArrayBuffer)
          return call((h) => h.cacheImportPack(Comlink.transfer(pack, [pack])));
        if (
          pack instanceof Uint8Array &&
          pack.byteOffset === 0 &&
          pack.byteLength === pack.buffer.byteLength
        ) {
          return call((h) => h.cacheImportPack(Comlink.transfer(pack, [pack.buffer as ArrayBuffer])));
        }
        return call((h) => h.cacheImportPack(pack));
      },
    },
    info: () => call((h) => h.info()),
    tokenPieces: (ids) => call((h) => h.tokenPieces(ids)),
    unload: () => call((h) => h.unload()),
    terminate() {
      if (failure) return;
      fail(new EngineWorkerError('The engine worker was terminated.'));
      remote[Comlink.releaseProxy]();
      opts.terminate?.();
    },
  };
}

/**
 * A relative model URL (`/models/x`, `models/x`) resolved against this page, not against the worker
 * script that would otherwise resolve it. Absolute URLs, and anything outside a page, pass unchanged.
 */
export function resolveLocation(location: string): string {
  const base = (globalThis as { document?: { baseURI?: string } }).document?.baseURI;
  if (!base || /^[a-z][a-z0-9+.-]*:/i.test(location)) return location;
  return new URL(location, base).href;
}

/** An argument the structured clone cannot copy (a function, a DOM node) is the caller's error, with a code. */
function clientError(e: unknown): unknown {
  if ((e as { name?: unknown } | null)?.name !== 'DataCloneError') return e;
  return new InvalidArgumentError(
    `an argument cannot cross to the engine worker: ${(e as Error).message} (pass plain data: strings, numbers, arrays, objects)`,
  );
}
