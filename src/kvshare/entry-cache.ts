import type { MemoryCacheStats } from '../api/cache.ts';
import type { KVEntry, KVEntryMeta } from './entry.ts';
import type { MemoryTier } from './memory-tier.ts';
import type { SketchMatch } from './sketch.ts';

/**
 * What the engine needs from a KV cache: a sketch query over every known entry, and async access to
 * payloads (which may live in IndexedDB). MemoryEntryCache is the in-memory one; src/store adds a
 * persistent one with the same interface.
 */
export interface EntryCache {
  /** Candidates for `tokens`, most similar first (estimated n-gram Jaccard >= threshold). */
  query(tokens: ArrayLike<number>, topK: number, opts?: { threshold?: number }): SketchMatch[];
  /** The entry, or undefined when absent, evicted, or found corrupt (a corrupt one is deleted). */
  get(id: string): Promise<KVEntry | undefined>;
  /** Validates then stores (evicting least recently used entries to fit the budget). */
  store(entry: KVEntry): Promise<void>;
  delete(id: string): Promise<boolean>;
  clear(): Promise<void>;
  list(): KVEntryMeta[];
  stats(): MemoryCacheStats;
  recordHit(reusedTokens: number): void;
  recordMiss(): void;
  /** Figures of the IndexedDB tier, when there is one. */
  persistence?():
    | {
        persistedEntries: number;
        persistedBytes: number;
        corruptDeleted: number;
        memoryOnly: boolean;
      }
    | undefined;
  /** Token ids of an entry known but not fetched yet (a mounted pack's), so retrieval can gate before fetching. */
  lazyTokens?(id: string): Int32Array | undefined;
  /** Finish pending writes and let go of shared resources (the cache is no longer used after this). */
  close?(): Promise<void>;
}

export class MemoryEntryCache implements EntryCache {
  constructor(readonly memory: MemoryTier) {}
  query(tokens: ArrayLike<number>, topK: number, opts: { threshold?: number } = {}): SketchMatch[] {
    return this.memory.query(tokens, topK, opts);
  }
  async get(id: string): Promise<KVEntry | undefined> {
    return this.memory.get(id);
  }
  async store(entry: KVEntry): Promise<void> {
    this.memory.store(entry);
  }
  async delete(id: string): Promise<boolean> {
    return this.memory.delete(id);
  }
  async clear(): Promise<void> {
    this.memory.clear();
  }
  list(): KVEntryMeta[] {
    return this.memory.list();
  }
  stats(): MemoryCacheStats {
    return this.memory.stats();
  }
  recordHit(reusedTokens: number): void {
    this.memory.recordHit(reusedTokens);
  }
  recordMiss(): void {
    this.memory.recordMiss();
  }
}
