/**
 * The public vocabulary of the KV cache: its figures, its entries, KV packs, persistence options and
 * the warnings it raises. A leaf like the rest of src/api; the stores in src/kvshare and src/store
 * report these same types.
 */

import type { ChatMessage, KVDtype } from './model.ts';

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
  /** Bytes one cached token's K/V take: layers × 2 × the bytes of kvDim values (q8 in groups of G: kvDim / G × (G + 4)). */
  kvBytesPerToken: number;
  /** Bytes of the live KV cache on the GPU (contextLength positions, allocated at load). */
  gpuLiveBytes: number;
  /** True when entries are written to IndexedDB (false: memory only, by choice or after a warning). */
  persistent: boolean;
  persistedEntries: number;
  persistedBytes: number;
  /** Entries deleted because they failed their checks (checksum, shapes, lengths). */
  corruptDeleted: number;
  /** Packs mounted (cache.mount), their entries not fetched yet, and what fetching from them has cost. */
  mounts: number;
  mountedEntries: number;
  mountFetchedBytes: number;
  mountRequests: number;
}

/** Options of `cache.mount`. */
export interface MountOptions {
  /**
   * SRI-style digest of the pack's header + index (`sha256-<base64>`, printed by `kvshare pack build`).
   * A pinned pack is trusted as built: entries computed exactly keep `exact`, so a prompt that starts
   * like one takes those rows as is (an unpinned pack's entries are approximate, as imported ones are).
   */
  integrity?: string;
  /** Largest whole download accepted when the host ignores Range requests (default 64 MiB). */
  maxWholeBytes?: number;
}

/** What `cache.mount` did. */
export interface MountResult {
  url: string;
  /** Entries the index added (ids the cache already held are skipped). */
  entries: number;
  /** Bytes of header + index fetched. */
  indexBytes: number;
  /** False when the host ignored Range and the whole pack was downloaded (within maxWholeBytes). */
  ranged: boolean;
}

/** An entry's application metadata: string keys to JSON scalars (see CacheAddOptions.meta). */
export type EntryUserMeta = Record<string, string | number | boolean | null>;

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
  /** The metadata given to `cache.add` / `cache.addDocument` (absent when none). */
  meta?: EntryUserMeta;
}

/** What importPack() stored. */
export interface PackImportResult {
  /** Ids of the imported entries, in pack order. */
  ids: string[];
  /** Ids of pack entries the cache already held: those were kept unchanged and not imported. */
  skipped: string[];
}

/** How far `cache.add` / `cache.addDocument` has prefilled. */
export interface CacheAddProgress {
  /** Prompt tokens computed so far, over every chunk. */
  doneTokens: number;
  totalTokens: number;
}

/** Options of `cache.add`. */
export interface CacheAddOptions {
  /** The entry's id (at most 256 characters); an entry with the same id is replaced. Default: a random UUID. */
  id?: string;
  /**
   * The application's metadata, kept with the entry (IndexedDB, packs) and shown by list(): string keys
   * (1–64 characters) to strings, finite numbers, booleans or null, at most 4 KiB as JSON. addDocument
   * gives every chunk the document's meta. Anything else: InvalidArgumentError, before any prefill.
   */
  meta?: EntryUserMeta;
  /** Called after each slice of the prefill (a few hundred tokens), then once at the end. */
  onProgress?: (p: CacheAddProgress) => void;
  /** Aborting stops the prefill between slices (AbortError); nothing is stored. */
  signal?: AbortSignal;
}

/** Options of `cache.addDocument`. */
export interface AddDocumentOptions extends CacheAddOptions {
  /**
   * Most tokens per chunk (16 up to the context length); a chunk ends at a sentence or line end in
   * its last quarter when there is one. Each chunk is prefilled on its own (after the BOS token, if the
   * tokenizer adds one) and stored as entry `<id>#<n>`, so prompts may quote chunks in any order.
   */
  chunkTokens: number;
}

/** What `cache.addDocument` stored. */
export interface DocumentAddResult {
  /** The document's id (chunk entries are `<id>#0`, `<id>#1`, ...). */
  id: string;
  chunks: KVEntryMeta[];
}

/** The KV cache of the loaded model. */
export interface EngineCacheApi {
  /**
   * Prefill a text (tokenized with the model's special tokens, as a prompt) or the messages of a chat
   * (the chat template without the generation prompt) without generating, and store its K/V as an
   * exact entry. Throws InvalidArgumentError, ContextOverflowError, AbortError.
   */
  add(input: string | ChatMessage[], opts?: CacheAddOptions): Promise<KVEntryMeta>;
  /**
   * Split a document into chunks of at most `chunkTokens` tokens and cache each (see AddDocumentOptions);
   * adding a document with the id of one added before replaces all of that one's chunks.
   */
  addDocument(text: string, opts: AddDocumentOptions): Promise<DocumentAddResult>;
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
   * Mount a pack built as format version 2 (`kvshare pack build`) by URL: only its header and index are
   * fetched (HTTP Range); retrieval answers from the index, and an entry a prompt uses is fetched with
   * one Range request, checked against its SHA-256 and kept in the cache. A host that ignores Range: one
   * whole download up to `maxWholeBytes`, else CachePackError. Throws CachePackError for anything malformed.
   */
  mount(url: string, opts?: MountOptions): Promise<MountResult>;
  /**
   * Validates a pack (magic, version, fingerprint, shapes and lengths, size caps) before storing
   * anything, then stores its entries. A string is fetched as a URL. Throws CachePackError.
   */
  importPack(pack: Blob | ArrayBuffer | Uint8Array | string): Promise<PackImportResult>;
}
