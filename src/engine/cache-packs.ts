/**
 * What the engine's cache API adds on top of a EntryCache: user-facing stats (memory and
 * IndexedDB tiers together) and KV packs from bytes, Blobs or URLs.
 */
import type { CacheStats, GpuCacheStats, PackImportResult } from '../api/cache.ts';
import { CachePackError, InvalidArgumentError } from '../errors.ts';
import type { EntryExpectation } from '../kvshare/entry.ts';
import type { EntryCache } from '../kvshare/entry-cache.ts';
import type { MountStats } from '../store/mounted-cache.ts';
import { DEFAULT_PACK_MAX_BYTES, declaredPackBytes, exportPack, importPack } from '../store/pack.ts';
import { readBounded, responseBody } from '../util/bounded-read.ts';

/**
 * Stats of every known entry (in memory or only in IndexedDB), with the IndexedDB tier's figures (the
 * engine adds the GPU's and the K/V storage type).
 */
export function cacheStats(
  cache: EntryCache,
): Omit<CacheStats, keyof GpuCacheStats | keyof MountStats | 'kvDtype' | 'kvBytesPerToken' | 'gpuLiveBytes'> {
  const base = cache.stats();
  const list = cache.list();
  const p = cache.persistence?.();
  return {
    ...base,
    entries: list.length,
    bytes: list.reduce((sum, m) => sum + m.bytes, 0),
    persistent: p !== undefined && !p.memoryOnly,
    persistedEntries: p?.persistedEntries ?? 0,
    persistedBytes: p?.persistedBytes ?? 0,
    corruptDeleted: p?.corruptDeleted ?? 0,
  };
}

export function exportCachePack(
  cache: EntryCache,
  fingerprint: string,
  ids?: string[],
): Promise<Uint8Array<ArrayBuffer>> {
  if (ids !== undefined && (!Array.isArray(ids) || ids.some((id) => typeof id !== 'string'))) {
    throw new InvalidArgumentError('exportPack(ids) takes an array of entry ids');
  }
  return exportPack(cache, fingerprint, ids);
}

/** Validate the whole pack, then store its entries; a string is fetched as a URL first. */
export async function importCachePack(
  cache: EntryCache,
  pack: Blob | ArrayBuffer | Uint8Array | string,
  expect: EntryExpectation,
): Promise<PackImportResult> {
  const data = typeof pack === 'string' ? await fetchCachePack(pack, expect) : pack;
  return importPack(cache, data, expect);
}

/**
 * The pack at `url`, at most `maxBytes`: a declared Content-Length over the cap is refused before
 * the download, a body that grows past it is cancelled there, and one cut short (or a connection
 * that breaks) is a CachePackError too. The pack's own header is checked as soon as it arrives: a
 * body that is not a pack for this model stops after 88 bytes, a pack stops at its declared end.
 */
export async function fetchCachePack(
  url: string,
  expect: EntryExpectation,
  maxBytes = DEFAULT_PACK_MAX_BYTES,
): Promise<Uint8Array> {
  let res: Response;
  try {
    res = await fetch(url);
  } catch (e) {
    throw new CachePackError(`Could not fetch the KV pack at ${url}: ${String(e)}`, { cause: e });
  }
  if (!res.ok) {
    await res.body?.cancel().catch(() => undefined);
    throw new CachePackError(`Could not fetch the KV pack at ${url}: HTTP ${res.status}`);
  }
  const body = responseBody(
    res,
    (e) => new CachePackError(`The download of the KV pack at ${url} broke off: ${String(e)}`, { cause: e }),
  );
  return readBounded(
    body,
    maxBytes,
    {
      tooLarge: (bytes, cap, declared) =>
        new CachePackError(
          `KV pack is too large: ${declared ? `${bytes} bytes` : `more than ${cap} bytes sent`}, the limit is ${cap}`,
        ),
      cut: (got, total) =>
        new CachePackError(`The KV pack at ${url} is cut short: ${got} of ${total} bytes arrived`),
    },
    undefined,
    (head) => declaredPackBytes(head, expect, { maxBytes }),
  );
}
