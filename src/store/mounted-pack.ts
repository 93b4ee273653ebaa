/**
 * A version 2 KV pack (pack-index.ts) on any static host, read lazily: `openMountedPack` fetches the
 * header and the index with HTTP Range requests (two requests: 88 bytes, then the index), and
 * `entry(id)` fetches one entry's bytes with a Range request, checks its SHA-256 against the index and
 * decodes it. A host that ignores Range (answers 200 with the whole file) gets one capped whole download
 * (`maxWholeBytes`, default 64 MiB), read once and served from memory; a larger pack from such a host
 * is a CachePackError saying so. Every read is bounded (src/util/bounded-read.ts); anything malformed is
 * a CachePackError and changes nothing.
 */
import { CachePackError } from '../errors.ts';
import type { EntryExpectation, KVEntry } from '../kvshare/entry.ts';
import { readBounded, responseBody } from '../util/bounded-read.ts';
import {
  DEFAULT_INDEX_MAX_BYTES,
  decodeIndex,
  decodeRow,
  integrityOf,
  PACK_HEADER_BYTES,
  type PackIndex,
  type PackIndexRow,
  readIndexHeader,
} from './pack-index.ts';

export interface MountOptions {
  /**
   * SRI-style digest of the header + index (`sha256-<base64>`): the mount fails unless it matches. A
   * pinned pack is trusted as built: its entries keep their `exact` flag (unpinned: approximate).
   */
  integrity?: string;
  /** Largest whole download accepted from a host that ignores Range requests (default 64 MiB). */
  maxWholeBytes?: number;
  /** Largest index accepted (default 64 MiB). */
  maxIndexBytes?: number;
}

export const DEFAULT_WHOLE_MAX_BYTES = 64 * 1024 * 1024;

/** A mounted pack: its index, and its entries fetched one at a time. */
export interface MountedPack {
  url: string;
  index: PackIndex;
  /** Bytes received so far (header and index included) and HTTP requests made. */
  fetchedBytes(): number;
  requests(): number;
  /** Whether the host honoured Range (false: the whole pack was downloaded once). */
  ranged: boolean;
  /** Fetch, verify and decode the entry of `row`. */
  entry(row: PackIndexRow): Promise<KVEntry>;
}

/** Fetch and check the header and index of the pack at `url`. */
export async function openMountedPack(
  url: string,
  expect: EntryExpectation,
  opts: MountOptions = {},
): Promise<MountedPack> {
  if (opts.integrity !== undefined && !/^sha256-[A-Za-z0-9+/]+=*$/.test(opts.integrity))
    throw new CachePackError(`integrity must be "sha256-<base64>" (got ${JSON.stringify(opts.integrity)})`);
  const maxWhole = opts.maxWholeBytes ?? DEFAULT_WHOLE_MAX_BYTES;
  let fetched = 0;
  let requests = 0;
  let whole: Uint8Array | null = null;

  /** Bytes [start, end) of the pack: a 206 of exactly that range, or (200) the whole pack once. */
  const range = async (start: number, end: number): Promise<Uint8Array> => {
    if (whole) return whole.subarray(start, Math.min(end, whole.length));
    requests++;
    let res: Response;
    try {
      res = await fetch(url, { headers: { Range: `bytes=${start}-${end - 1}` } });
    } catch (e) {
      throw new CachePackError(`Could not fetch the KV pack at ${url}: ${String(e)}`, { cause: e });
    }
    if (res.status !== 206 && res.status !== 200) {
      await res.body?.cancel().catch(() => undefined);
      throw new CachePackError(`Could not fetch the KV pack at ${url}: HTTP ${res.status}`);
    }
    const ranged = res.status === 206;
    if (ranged) {
      const cr = /^bytes (\d+)-(\d+)\//.exec(res.headers.get('content-range') ?? '');
      if (!cr || Number(cr[1]) !== start || Number(cr[2]) > end - 1) {
        await res.body?.cancel().catch(() => undefined);
        throw new CachePackError(
          `The host of ${url} answered a Range request for bytes ${start}-${end - 1} with ${res.headers.get('content-range') ?? 'no Content-Range'}`,
        );
      }
    }
    const cap = ranged ? end - start : maxWhole;
    const body = responseBody(
      res,
      (e) =>
        new CachePackError(`The download of the KV pack at ${url} broke off: ${String(e)}`, { cause: e }),
    );
    const bytes = await readBounded(body, cap, {
      tooLarge: (n, c) =>
        new CachePackError(
          ranged
            ? `The host of ${url} sent ${n} bytes for a ${c}-byte range`
            : `The host of ${url} ignores Range requests and the pack is larger than ${c} bytes (maxWholeBytes): serve it from a host that honours Range, or raise the cap`,
        ),
      cut: (got, total) =>
        new CachePackError(`The KV pack at ${url} is cut short: ${got} of ${total} bytes arrived`),
    });
    fetched += bytes.length;
    if (!ranged) {
      whole = bytes;
      return whole.subarray(start, Math.min(end, whole.length));
    }
    if (bytes.length !== end - start)
      throw new CachePackError(
        `The KV pack at ${url} ends early: ${bytes.length} of ${end - start} bytes in range`,
      );
    return bytes;
  };

  const head = await range(0, PACK_HEADER_BYTES);
  const { indexEnd } = readIndexHeader(head, expect, opts.maxIndexBytes ?? DEFAULT_INDEX_MAX_BYTES);
  const rest = indexEnd > PACK_HEADER_BYTES ? await range(PACK_HEADER_BYTES, indexEnd) : new Uint8Array(0);
  const indexBytes = new Uint8Array(indexEnd);
  indexBytes.set(head.subarray(0, PACK_HEADER_BYTES));
  indexBytes.set(rest, PACK_HEADER_BYTES);
  if (rest.length !== indexEnd - PACK_HEADER_BYTES)
    throw new CachePackError(`The KV pack at ${url} is cut short inside its index`);
  if (opts.integrity !== undefined) {
    const got = await integrityOf(indexBytes);
    if (got !== opts.integrity)
      throw new CachePackError(
        `The KV pack at ${url} does not match its integrity: expected ${opts.integrity}, got ${got}`,
      );
  }
  const index = decodeIndex(indexBytes, expect, opts.maxIndexBytes);
  const rows = new Map(index.rows.map((r, i) => [r, i]));
  return {
    url,
    index,
    get ranged() {
      return whole === null;
    },
    fetchedBytes: () => fetched,
    requests: () => requests,
    async entry(row) {
      const i = rows.get(row);
      if (i === undefined) throw new CachePackError(`no such entry in the KV pack at ${url}`);
      const bytes = await range(row.offset, row.offset + row.length);
      const e = await decodeRow(row, bytes.slice(), expect, i);
      // A pack's "exact" claim cannot be checked cheaply (pack.ts, importPack): it is kept only when the
      // app pinned the pack it built (`integrity`, which covers every entry's digest), so an exact
      // entry's leading rows can then be taken as is at the same positions, unscored.
      if (opts.integrity === undefined) e.exact = false;
      return e;
    },
  };
}
