import type { CacheBackendOptions } from '../engine/engine.ts';
import { type KVCacheBackend, MemoryBackend } from '../kvshare/cache-backend.ts';
import type { MemoryKVCache } from '../kvshare/memory-cache.ts';
import { PersistentKVCache } from '../store/idb-store.ts';

/** Bytes of KV entries kept in IndexedDB by default (also capped by half the free quota). */
export const DEFAULT_PERSISTED_BUDGET = 512 * 1024 * 1024;

/**
 * The engine's cache backend in browsers: IndexedDB (src/store) behind the memory cache, unless
 * `persistence.backend` is 'memory'. Never rejects for storage trouble: without IndexedDB it works in
 * memory only and reports an 'unavailable' warning.
 */
export async function indexedDbCacheBackend(
  memory: MemoryKVCache,
  opts: CacheBackendOptions,
): Promise<KVCacheBackend> {
  const p = opts.persistence ?? {};
  if (p.backend === 'memory') return new MemoryBackend(memory);
  const onWarning = opts.onWarning;
  return PersistentKVCache.open({
    ...memory.expect,
    memory,
    budgetBytes: p.budgetBytes ?? DEFAULT_PERSISTED_BUDGET,
    dbName: p.dbName,
    // The cause stays here: it may not survive the worker boundary.
    onWarning:
      onWarning && ((w) => onWarning({ kind: w.kind, message: w.message, ...(w.id ? { id: w.id } : {}) })),
  });
}
