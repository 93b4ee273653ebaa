/**
 * One bounded reader for every file fetched whole (model JSON and tokenizer files, chat templates,
 * KV packs by URL): a per-kind byte cap, checked against a declared Content-Length before the body
 * is read and against the bytes as they arrive, the download cancelled the moment the cap is passed;
 * a body that ends short of its declared length, or whose connection breaks, is the kind's typed
 * error. Memory stays the cap plus one chunk, whatever the server sends.
 */
import { AbortError } from '../errors.ts';

/** A body being read: its declared size when known, its chunks in order, a way to drop it unread. */
export interface BodyStream {
  total: number | null;
  chunks: AsyncIterable<Uint8Array>;
  /** Stops the download when the body is refused before its first chunk is asked for. */
  cancel?: () => Promise<void>;
}

/** The typed errors of one kind of file. */
export interface BodyErrors {
  /** More than `cap` bytes: declared (`declared` true) or counted as they arrived. */
  tooLarge(bytes: number, cap: number, declared: boolean): Error;
  /** The body ended after `got` of its declared `total` bytes. */
  cut(got: number, total: number): Error;
}

/**
 * A format whose first bytes say how long it is (a KV pack's header and entry table): given the
 * bytes so far, the declared length, or how many bytes it needs before it can tell. Throws the
 * kind's typed error for a head that is not the format.
 */
export type DeclaredLength = (head: Uint8Array) => number | { need: number };

/**
 * Reads a whole body of at most `cap` bytes. `onBytes` sees the running count. With `declared`,
 * the body is also held to the length its own head declares, as soon as the head has arrived.
 */
export async function readBounded(
  body: BodyStream,
  cap: number,
  errors: BodyErrors,
  onBytes?: (loaded: number, total: number | null) => void,
  declared?: DeclaredLength,
): Promise<Uint8Array> {
  if (body.total !== null && body.total > cap) {
    await body.cancel?.().catch(() => undefined);
    throw errors.tooLarge(body.total, cap, true);
  }
  const parts: Uint8Array[] = [];
  let loaded = 0;
  let limit = cap;
  let own: number | null = null; // the length the head declares, once known
  let need = declared ? 0 : Number.POSITIVE_INFINITY;
  onBytes?.(0, body.total);
  // Leaving the loop early (throw) ends the iterator, which cancels the download.
  for await (const c of body.chunks) {
    loaded += c.byteLength;
    if (loaded > limit) throw errors.tooLarge(loaded, limit, false);
    parts.push(c);
    if (declared && own === null && loaded >= need) {
      const d = declared(concat(parts, loaded));
      if (typeof d === 'number') {
        own = d;
        if (d > cap) throw errors.tooLarge(d, cap, true);
        if (loaded > d) throw errors.tooLarge(loaded, d, false);
        limit = d;
      } else need = d.need;
    }
    onBytes?.(loaded, body.total);
  }
  if (body.total !== null && loaded !== body.total) throw errors.cut(loaded, body.total);
  if (own !== null && loaded !== own) throw errors.cut(loaded, own);
  return concat(parts, loaded);
}

function concat(parts: Uint8Array[], total: number): Uint8Array {
  if (parts.length === 1) return parts[0];
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  parts.splice(0, parts.length, out); // later calls copy only what came after
  return out;
}

/** Content-Length when it is the length of the decoded body (no Content-Encoding), else null. */
export function plainLength(res: Response): number | null {
  const enc = res.headers.get('content-encoding');
  if (enc && enc.toLowerCase() !== 'identity') return null;
  const len = res.headers.get('content-length');
  if (len === null || !/^\d+$/.test(len.trim())) return null;
  return Number(len);
}

/** True for the DOMException (or Node error) that fetch rejects with when a signal aborts it. */
export function isAbortLike(e: unknown): boolean {
  return typeof e === 'object' && e !== null && (e as { name?: unknown }).name === 'AbortError';
}

/**
 * A fetch Response as a BodyStream. A broken connection while reading becomes `broken(e)` (the
 * kind's typed error), an abort AbortError; the body is cancelled if reading stops early.
 */
export function responseBody(res: Response, broken: (e: unknown) => Error, signal?: AbortSignal): BodyStream {
  return {
    total: plainLength(res),
    chunks: responseChunks(res, broken, signal),
    cancel: async () => {
      await res.body?.cancel();
    },
  };
}

export async function* responseChunks(
  res: Response,
  broken: (e: unknown) => Error,
  signal?: AbortSignal,
): AsyncGenerator<Uint8Array> {
  if (!res.body) return;
  const reader = res.body.getReader();
  let done = false;
  try {
    while (true) {
      let r: ReadableStreamReadResult<Uint8Array>;
      try {
        r = await reader.read();
      } catch (e) {
        if (signal?.aborted || isAbortLike(e)) throw new AbortError();
        throw broken(e);
      }
      if (r.done) {
        done = true;
        return;
      }
      yield r.value;
    }
  } finally {
    if (!done) await reader.cancel().catch(() => undefined);
    reader.releaseLock();
  }
}
