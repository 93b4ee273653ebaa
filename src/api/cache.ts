/**
 * The public vocabulary of the KV cache: its figures, its entries, KV packs, persistence options and
 * the warnings it raises. A leaf like the rest of src/api; the stores in src/kvshare and src/store
 * report these same types.
 */

import type { KVDtype } from './model.ts';

/**
 * Something the engine wants the application to know but that fails no request: the persistent KV
 * store went memory-only (`unavailable`: no IndexedDB, e.g. private mode; `quota`: storage full even
 * after evicting), an entry failed its checks and was deleted (`corrupt`), an entry is larger than the
 * persisted budget (`budget`), or another storage error (`io`).
 */
export interface EngineWarning {
  kind: 'unavailable' | 'quota' | 'corrupt' | 'budget' | 'io';
  message: string;
  /** The cache entry concerned, if any. */
  id?: string;
}

/** Where KV cache entries live besides memory. */
export interface PersistenceOptions {
  /** 'indexeddb' (the browser default when IndexedDB exists) or 'memory' (nothing persisted). */
  backend?: 'indexeddb' | 'memory';
  /** IndexedDB database name (default 'kvshare'); pages sharing it share entries across tabs. */
  dbName?: string;
  /** Most payload bytes kept in IndexedDB (default 512 MiB; also capped by half the free quota). */
  budgetBytes?: number;
}

/** The memory tier's figures (what every KV cache backend reports). */
export interface MemoryCacheStats {
  entries: number;
  bytes: number;
  budgetBytes: number;
  /** Lookups that reused at least one cached row. */
  hits: number;
  /** Lookups that reused nothing. */
  misses: number;
  /** Rows reused over all hits. */
  reusedTokens: number;
}

/** The GPU-resident hot tier's figures. */
export interface GpuCacheStats {
  gpuEntries: number;
  gpuBytes: number;
  gpuBudgetBytes: number;
  /** Entries uploaded to the hot tier after a request used them from host memory (IndexedDB, packs, put). */
  gpuPromotions: number;
}

/** What `cache.stats()` gives: the memory and GPU tiers' figures, plus the persistent store's. */
export interface CacheStats extends MemoryCacheStats, GpuCacheStats {
  /** How K/V are stored (LoadOptions.kvDtype); `bytes`, `gpuBytes`, `persistedBytes` count this storage. */
  kvDtype: KVDtype;
  /** Bytes one cached token's K/V take: layers × 2 × the bytes of kvDim values (q8: kvDim / 32 × 36). */
  kvBytesPerToken: number;
  /** Bytes of the live KV cache on the GPU (contextLength positions, allocated at load). */
  gpuLiveBytes: number;
  /** True when entries are written to IndexedDB (false: memory only, by choice or after a warning). */
  persistent: boolean;
  persistedEntries: number;
  persistedBytes: number;
  /** Entries deleted because they failed their checks (checksum, shapes, lengths). */
  corruptDeleted: number;
}

/** A cache entry without its tensors, for listings. */
export interface KVEntryMeta {
  id: string;
  /** The model's fingerprint (ModelInfo.fingerprint): entries are never used across models. */
  fingerprint: string;
  numTokens: number; // T
  numLayers: number;
  kvDim: number;
  /** Bytes of the entry's arrays (tokens, positions, K, V, sketch). */
  bytes: number;
  /** The K/V equal a full computation of the tokens (no reused rows left stale). */
  exact: boolean;
  createdAt: number;
  lastUsed: number;
}

/** What importPack() stored. */
export interface PackImportResult {
  /** Ids of the imported entries, in pack order. */
  ids: string[];
  /** Ids of pack entries the cache already held: those were kept unchanged and not imported. */
  skipped: string[];
}

/** The KV cache of the loaded model. */
export interface EngineCacheApi {
  stats(): Promise<CacheStats>;
  list(): Promise<KVEntryMeta[]>;
  delete(id: string): Promise<boolean>;
  /** Delete every entry of the loaded model (memory and IndexedDB). */
  clear(): Promise<void>;
  /**
   * A KV pack: a versioned binary blob (magic, format version, model fingerprint, entry table, then
   * payloads) of the loaded model's entries (all, or `ids`). Ship it with a site so first-time
   * visitors get hits.
   */
  exportPack(ids?: string[]): Promise<Uint8Array<ArrayBuffer>>;
  /**
   * Validates a pack (magic, version, fingerprint, shapes and lengths, size caps) before storing
   * anything, then stores its entries. A string is fetched as a URL. Throws CachePackError.
   */
  importPack(pack: Blob | ArrayBuffer | Uint8Array | string): Promise<PackImportResult>;
}
