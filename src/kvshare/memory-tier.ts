/**
 * In-memory KV cache for one model: a byte budget with least-recently-used eviction, plus the MinHash
 * sketch index used to retrieve entries similar to a new prompt. IndexedDB persistence (src/store) sits
 * behind it and uses the same KVEntry objects.
 */
import type { MemoryCacheStats } from '../api/cache.ts';
import { InvalidArgumentError } from '../errors.ts';
import {
  conformEntry,
  type EntryExpectation,
  entryBytes,
  entryMeta,
  type KVEntry,
  type KVEntryMeta,
  validateEntry,
} from './entry.ts';
import {
  minhashSignature,
  SketchIndex,
  type SketchMatch,
  type SketchQueryOptions,
  shingleCount,
} from './sketch.ts';

export interface MemoryTierOptions extends EntryExpectation {
  budgetBytes: number; // total entryBytes() the cache may hold
  clock?: () => number; // time source for createdAt/lastUsed (default Date.now)
  ngram?: number; // sketch shingle length (default 3)
  bands?: number; // LSH bands (default 16)
  rows?: number; // LSH rows per band (default 4); signatures have bands × rows hashes
}

export type { MemoryCacheStats } from '../api/cache.ts';

export interface StoreResult {
  evicted: string[]; // ids evicted to make room, least recently used first
  /** What the cache holds: `entry`, or a copy with its K/V converted to the cache's kvDtype. */
  entry: KVEntry;
}

export class MemoryTier {
  readonly budgetBytes: number;
  readonly expect: EntryExpectation;
  readonly numHashes: number;
  readonly ngram: number;
  private readonly clock: () => number;
  private readonly entries = new Map<string, KVEntry>(); // iteration order = least recently used first
  private readonly index: SketchIndex;
  private bytes = 0;
  private hits = 0;
  private misses = 0;
  private reusedTokens = 0;

  constructor(opts: MemoryTierOptions) {
    if (!Number.isFinite(opts.budgetBytes) || opts.budgetBytes < 0) {
      throw new InvalidArgumentError(`budgetBytes must be a finite number >= 0, got ${opts.budgetBytes}`);
    }
    this.budgetBytes = opts.budgetBytes;
    this.clock = opts.clock ?? Date.now;
    this.ngram = opts.ngram ?? 3;
    this.index = new SketchIndex({ bands: opts.bands, rows: opts.rows });
    this.numHashes = this.index.numHashes;
    this.expect = {
      fingerprint: opts.fingerprint,
      numLayers: opts.numLayers,
      kvDim: opts.kvDim,
      vocabSize: opts.vocabSize,
      contextLength: opts.contextLength,
      numHashes: this.numHashes,
      kvDtype: opts.kvDtype,
      q8Group: opts.q8Group,
    };
  }

  /** Signature of `tokens` with this cache's sketch settings (what `KVEntry.sketch` must hold). */
  sketch(tokens: ArrayLike<number>): Uint32Array {
    return minhashSignature(tokens, { numHashes: this.numHashes, ngram: this.ngram });
  }

  /**
   * Validate and insert `entry` (replacing any entry with the same id), evicting least recently used
   * entries until it fits; K/V of another dtype than `kvDtype` (or q8 of another group than
   * `q8Group`) are converted (a copy is stored, see StoreResult.entry). Sets the stored entry's `lastUsed` to now. Throws CacheEntryError for an invalid entry and
   * InvalidArgumentError for one larger than the whole budget; the cache is unchanged when it throws.
   */
  store(input: KVEntry): StoreResult {
    validateEntry(input, this.expect); // the one full check of an entry: retrieval trusts what is here
    const entry = conformEntry(input, this.expect.kvDtype, this.expect.q8Group);
    const size = entryBytes(entry);
    if (size > this.budgetBytes) {
      throw new InvalidArgumentError(
        `cache entry ${JSON.stringify(entry.id)} needs ${size} bytes, more than the whole cache budget of ${this.budgetBytes} bytes`,
      );
    }
    this.delete(entry.id);
    const evicted: string[] = [];
    for (const [id, old] of this.entries) {
      if (this.bytes + size <= this.budgetBytes) break;
      this.remove(id, old);
      evicted.push(id);
    }
    entry.lastUsed = this.clock();
    this.entries.set(entry.id, entry);
    this.index.add(entry.id, entry.sketch, shingleCount(entry.tokens.length, this.ngram));
    this.bytes += size;
    return { evicted, entry };
  }

  /** The entry, marked most recently used (lastUsed = now); undefined when absent. */
  get(id: string): KVEntry | undefined {
    const e = this.entries.get(id);
    if (!e) return undefined;
    this.entries.delete(id);
    this.entries.set(id, e);
    e.lastUsed = this.clock();
    return e;
  }

  /** The entry without touching its recency. */
  peek(id: string): KVEntry | undefined {
    return this.entries.get(id);
  }

  has(id: string): boolean {
    return this.entries.has(id);
  }

  /** Remove `id`; returns whether it was present. */
  delete(id: string): boolean {
    const e = this.entries.get(id);
    if (!e) return false;
    this.remove(id, e);
    return true;
  }

  /** Remove every entry (statistics are kept; see resetStats). */
  clear(): void {
    this.entries.clear();
    this.index.clear();
    this.bytes = 0;
  }

  /** Metadata of every entry, least recently used first. */
  list(): KVEntryMeta[] {
    return [...this.entries.values()].map(entryMeta);
  }

  /**
   * Cached entries most similar to `tokens` (MinHash estimate of n-gram Jaccard), best first, at most `topK`.
   * Does not touch recency: call get() on the entry actually used.
   */
  query(tokens: ArrayLike<number>, topK = 5, opts: Omit<SketchQueryOptions, 'topK'> = {}): SketchMatch[] {
    return this.index.query(this.sketch(tokens), {
      ...opts,
      topK,
      querySize: shingleCount(tokens.length, this.ngram),
    });
  }

  /** Count a lookup that reused `reusedTokens` (> 0) cached rows. */
  recordHit(reusedTokens: number): void {
    if (!Number.isInteger(reusedTokens) || reusedTokens < 0) {
      throw new InvalidArgumentError(`reusedTokens must be a non-negative integer, got ${reusedTokens}`);
    }
    this.hits++;
    this.reusedTokens += reusedTokens;
  }

  /** Count a lookup that found nothing to reuse. */
  recordMiss(): void {
    this.misses++;
  }

  resetStats(): void {
    this.hits = 0;
    this.misses = 0;
    this.reusedTokens = 0;
  }

  stats(): MemoryCacheStats {
    return {
      entries: this.entries.size,
      bytes: this.bytes,
      budgetBytes: this.budgetBytes,
      hits: this.hits,
      misses: this.misses,
      reusedTokens: this.reusedTokens,
    };
  }

  private remove(id: string, e: KVEntry): void {
    this.entries.delete(id);
    this.index.remove(id);
    this.bytes -= entryBytes(e);
  }
}
