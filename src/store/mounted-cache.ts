/**
 * The entry cache with mounted packs in front (src/store/mounted-pack.ts): retrieval sees the entries of
 * every mounted index as if they were cached (sketched from their index tokens), and the first `get` of
 * one fetches its bytes (one Range request), verifies and stores it in the cache below (memory /
 * IndexedDB), where it stays. Every other call passes through.
 */
import type { MemoryCacheStats } from '../api/cache.ts';
import type { KVEntry, KVEntryMeta } from '../kvshare/entry.ts';
import type { EntryCache } from '../kvshare/entry-cache.ts';
import { SketchIndex, type SketchMatch, shingleCount } from '../kvshare/sketch.ts';
import type { MountedPack } from './mounted-pack.ts';
import type { PackIndexRow } from './pack-index.ts';

/** What the mounts have cost and hold. */
export interface MountStats {
  /** Packs mounted. */
  mounts: number;
  /** Entries known from mounted indexes and not fetched yet. */
  mountedEntries: number;
  /** Bytes received from mounted packs (indexes and entries) and the HTTP requests made. */
  mountFetchedBytes: number;
  mountRequests: number;
}

export class MountedEntryCache implements EntryCache {
  private readonly packs: MountedPack[] = [];
  private readonly lazy = new Map<string, { pack: MountedPack; row: PackIndexRow }>();
  private readonly index = new SketchIndex();

  constructor(
    private readonly base: EntryCache,
    /** The memory tier's signature and shingle length (lazy entries rank as stored ones do). */
    private readonly sketch: (tokens: ArrayLike<number>) => Uint32Array,
    private readonly ngram: number,
  ) {}

  /** Add a mounted pack's entries (ids the cache already holds are skipped); returns how many were added. */
  mount(pack: MountedPack): number {
    this.packs.push(pack);
    const held = new Set(this.base.list().map((e) => e.id));
    let n = 0;
    for (const row of pack.index.rows) {
      if (held.has(row.id) || this.lazy.has(row.id)) continue;
      this.lazy.set(row.id, { pack, row });
      this.index.add(row.id, this.sketch(row.tokens), shingleCount(row.tokens.length, this.ngram));
      n++;
    }
    return n;
  }

  mountStats(): MountStats {
    return {
      mounts: this.packs.length,
      mountedEntries: this.lazy.size,
      mountFetchedBytes: this.packs.reduce((s, p) => s + p.fetchedBytes(), 0),
      mountRequests: this.packs.reduce((s, p) => s + p.requests(), 0),
    };
  }

  query(tokens: ArrayLike<number>, topK: number, opts: { threshold?: number } = {}): SketchMatch[] {
    const own = this.base.query(tokens, topK, opts);
    if (this.lazy.size === 0) return own;
    const lazy = this.index.query(this.sketch(tokens), {
      topK,
      threshold: opts.threshold,
      querySize: shingleCount(tokens.length, this.ngram),
    });
    return [...own, ...lazy]
      .sort((x, y) => y.similarity - x.similarity || y.jaccard - x.jaccard)
      .slice(0, topK);
  }

  /** Token ids of a mounted entry not fetched yet (retrieval gates on them before fetching). */
  lazyTokens(id: string): Int32Array | undefined {
    return this.lazy.get(id)?.row.tokens;
  }

  async get(id: string): Promise<KVEntry | undefined> {
    const l = this.lazy.get(id);
    if (!l) return this.base.get(id);
    const entry = await l.pack.entry(l.row);
    await this.base.store(entry);
    this.drop(id);
    return (await this.base.get(id)) ?? entry;
  }

  store(entry: KVEntry): Promise<void> {
    this.drop(entry.id); // a stored entry replaces a mounted one of the same id
    return this.base.store(entry);
  }

  delete(id: string): Promise<boolean> {
    return this.base.delete(id);
  }

  /** Deletes every cached entry; the mounted packs stay mounted (their entries fetched again on use). */
  async clear(): Promise<void> {
    await this.base.clear();
    const packs = this.packs.splice(0);
    for (const p of packs) this.mount(p);
  }

  list(): KVEntryMeta[] {
    return this.base.list();
  }

  stats(): MemoryCacheStats {
    return this.base.stats();
  }

  recordHit(reusedTokens: number): void {
    this.base.recordHit(reusedTokens);
  }

  recordMiss(): void {
    this.base.recordMiss();
  }

  persistence(): ReturnType<NonNullable<EntryCache['persistence']>> | undefined {
    return this.base.persistence?.();
  }

  close(): Promise<void> {
    return this.base.close?.() ?? Promise.resolve();
  }

  private drop(id: string): void {
    if (this.lazy.delete(id)) this.index.remove(id);
  }
}
