import type { CacheBackendOptions } from '../engine/engine.ts';
import { type EntryCache, MemoryEntryCache } from '../kvshare/entry-cache.ts';
import type { MemoryTier } from '../kvshare/memory-tier.ts';
import { PersistentEntryCache } from '../store/idb-store.ts';

/** Bytes of KV entries kept in IndexedDB by default (also capped by half the free quota). */
export const DEFAULT_PERSISTED_BUDGET = 512 * 1024 * 1024;

/**
 * The engine's cache backend in browsers: IndexedDB (src/store) behind the memory cache, unless
 * `persistence.backend` is 'memory'. Never rejects for storage trouble: without IndexedDB it works in
 * memory only and reports an 'unavailable' warning.
 */
export async function indexedDbCacheBackend(
  memory: MemoryTier,
  opts: CacheBackendOptions,
): Promise<EntryCache> {
  const p = opts.persistence ?? {};
  if (p.backend === 'memory') return new MemoryEntryCache(memory);
  const onWarning = opts.onWarning;
  return PersistentEntryCache.open({
    ...memory.expect,
    memory,
    budgetBytes: p.budgetBytes ?? DEFAULT_PERSISTED_BUDGET,
    dbName: p.dbName,
    // The cause stays here: it may not survive the worker boundary.
    onWarning:
      onWarning && ((w) => onWarning({ kind: w.kind, message: w.message, ...(w.id ? { id: w.id } : {}) })),
  });
}
