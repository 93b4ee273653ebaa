/**
 * What the engine's cache API adds on top of a KVCacheBackend: user-facing stats (memory and
 * persistent tiers together) and KV packs from bytes, Blobs or URLs.
 */
import type { CacheStats, GpuCacheStats, PackImportResult } from '../api/cache.ts';
import { CachePackError, InvalidArgumentError } from '../errors.ts';
import type { KVCacheBackend } from '../kvshare/cache-backend.ts';
import type { EntryExpectation } from '../kvshare/entry.ts';
import { DEFAULT_PACK_MAX_BYTES, exportPack, importPack } from '../store/pack.ts';

/**
 * Stats of every known entry (in memory or only in IndexedDB), with the persistent tier's figures (the
 * engine adds the GPU's and the K/V storage type).
 */
export function cacheStats(
  cache: KVCacheBackend,
): Omit<CacheStats, keyof GpuCacheStats | 'kvDtype' | 'kvBytesPerToken' | 'gpuLiveBytes'> {
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
  cache: KVCacheBackend,
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
  cache: KVCacheBackend,
  pack: Blob | ArrayBuffer | Uint8Array | string,
  expect: EntryExpectation,
): Promise<PackImportResult> {
  const data = typeof pack === 'string' ? await fetchPack(pack) : pack;
  return importPack(cache, data, expect);
}

/** The pack at `url`; a declared Content-Length over the size cap is refused before the download. */
async function fetchPack(url: string, maxBytes = DEFAULT_PACK_MAX_BYTES): Promise<Uint8Array> {
  let res: Response;
  try {
    res = await fetch(url);
  } catch (e) {
    throw new CachePackError(`Could not fetch the KV pack at ${url}: ${String(e)}`, { cause: e });
  }
  if (!res.ok) throw new CachePackError(`Could not fetch the KV pack at ${url}: HTTP ${res.status}`);
  const declared = Number(res.headers.get('content-length') ?? Number.NaN);
  if (declared > maxBytes) {
    await res.body?.cancel();
    throw new CachePackError(`KV pack is too large: ${declared} bytes, the limit is ${maxBytes}`);
  }
  // A body larger than declared is refused by decodePack's own size cap.
  return new Uint8Array(await res.arrayBuffer());
}
