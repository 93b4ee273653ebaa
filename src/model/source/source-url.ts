import { AbortError, ModelFileMissingError } from '../../errors.ts';
import { isAbortLike, plainLength, responseBody, responseChunks } from '../../util/bounded-read.ts';
import { BaseSource, checkFileName, concatChunks, type OpenedStream, throwIfAborted } from './source-base.ts';

/**
 * Model files under a base URL, read with the global `fetch` (browsers, workers, Node 18+).
 * `https://host/models/x` and `https://host/models/x/` are the same base.
 */
export class UrlSource extends BaseSource {
  readonly kind = 'url' as const;
  private readonly base: string;

  constructor(location: string) {
    super(location);
    this.base = location.endsWith('/') ? location : `${location}/`;
  }

  private urlOf(name: string): string {
    checkFileName(name);
    return new URL(name, this.base).href;
  }

  protected async open(name: string, signal?: AbortSignal): Promise<OpenedStream> {
    const url = this.urlOf(name);
    const res = await this.request(name, url, 'GET', undefined, signal);
    if (!res.ok) throw this.httpError(name, url, res);
    return responseBody(res, (e) => interrupted(res, e), signal);
  }

  async readRange(name: string, start: number, end: number, signal?: AbortSignal): Promise<Uint8Array> {
    const url = this.urlOf(name);
    if (!this.checkRange(name, start, end)) return new Uint8Array(0);
    const res = await this.request(name, url, 'GET', { Range: `bytes=${start}-${end - 1}` }, signal);
    if (res.status === 416) {
      await res.body?.cancel();
      throw this.truncated(name, start, end, 0);
    }
    if (!res.ok) throw this.httpError(name, url, res);
    const want = end - start;
    // 206: the server honoured Range. 200: it sent the whole file; skip to `start`, stop at `end`.
    const skip = res.status === 206 ? 0 : start;
    const parts: Uint8Array[] = [];
    let seen = 0;
    let got = 0;
    for await (const c of responseChunks(res, (e) => interrupted(res, e), signal)) {
      const from = Math.max(0, skip - seen);
      seen += c.byteLength;
      if (from >= c.byteLength) continue;
      const take = c.subarray(from, Math.min(c.byteLength, from + want - got));
      parts.push(take);
      got += take.byteLength;
      if (got >= want) break;
    }
    if (got !== want) throw this.truncated(name, start, end, got);
    return concatChunks(parts, want);
  }

  async size(name: string, signal?: AbortSignal): Promise<number> {
    const url = this.urlOf(name);
    const head = await this.request(name, url, 'HEAD', undefined, signal);
    if (head.status === 404 || head.status === 410) throw this.httpError(name, url, head);
    const fromHead = head.ok ? plainLength(head) : null;
    if (fromHead !== null) return fromHead;
    // HEAD refused or without a usable length: ask for one byte and read the total from Content-Range.
    const res = await this.request(name, url, 'GET', { Range: 'bytes=0-0' }, signal);
    const range = /\/(\d+)\s*$/.exec(res.headers.get('content-range') ?? '');
    if ((res.status === 206 || res.status === 416) && range) {
      await res.body?.cancel();
      return Number(range[1]);
    }
    if (!res.ok) throw this.httpError(name, url, res);
    let n = 0;
    for await (const c of responseChunks(res, (e) => interrupted(res, e), signal)) n += c.byteLength;
    return n;
  }

  async exists(name: string, signal?: AbortSignal): Promise<boolean> {
    const url = this.urlOf(name);
    const head = await this.request(name, url, 'HEAD', undefined, signal);
    if (head.ok) return true;
    if (head.status === 404 || head.status === 410) return false;
    if (head.status !== 405 && head.status !== 501) throw this.httpError(name, url, head);
    const res = await this.request(name, url, 'GET', { Range: 'bytes=0-0' }, signal);
    await res.body?.cancel();
    if (res.ok || res.status === 416) return true;
    if (res.status === 404 || res.status === 410) return false;
    throw this.httpError(name, url, res);
  }

  private async request(
    name: string,
    url: string,
    method: 'GET' | 'HEAD',
    headers: Record<string, string> | undefined,
    signal: AbortSignal | undefined,
  ): Promise<Response> {
    throwIfAborted(signal);
    try {
      return await fetch(url, { method, headers, signal });
    } catch (e) {
      if (signal?.aborted || isAbortLike(e)) throw new AbortError();
      const why = e instanceof Error ? e.message : String(e);
      throw new ModelFileMissingError(`Model file ${name} cannot be fetched from ${url}: ${why}`, {
        cause: e,
      });
    }
  }

  private httpError(name: string, url: string, res: Response): ModelFileMissingError {
    void res.body?.cancel().catch(() => undefined);
    const status = `HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''}`;
    if (res.status === 404 || res.status === 410) {
      return new ModelFileMissingError(`Model file ${name} is missing at ${url} (${status}).`);
    }
    return new ModelFileMissingError(`Model file ${name} cannot be read from ${url} (${status}).`);
  }
}

/** A download cut off mid-body (connection reset, server gone). */
function interrupted(res: Response, e: unknown): ModelFileMissingError {
  const why = e instanceof Error ? e.message : String(e);
  return new ModelFileMissingError(`Download of ${res.url} was interrupted: ${why}`, { cause: e });
}
