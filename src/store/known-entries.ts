/**
 * What one PersistentEntryCache instance knows about the entries of its model: the index record of each,
 * whether it lives in IndexedDB or only in memory, the LSH sketch index over all of them, and the
 * persisted byte total the budget is checked against.
 */
import type { EntryExpectation, KVEntryMeta } from '../kvshare/entry.ts';
import { SketchIndex, type SketchMatch, shingleCount } from '../kvshare/sketch.ts';
import { type IndexRecord, recordMeta } from './records.ts';

/** memory: only in the hot tier; pending: its IndexedDB write is queued or running; persisted: in IndexedDB. */
export type KnownState = 'memory' | 'pending' | 'persisted';

export interface Known {
  rec: IndexRecord;
  state: KnownState;
  seq: number; // order of set() calls, so a queued write can tell it was superseded
}

export class KnownEntries {
  private readonly map = new Map<string, Known>();
  private readonly index: SketchIndex;
  private seq = 0;
  private bytes = 0;
  private count = 0;

  /** `bands` × `rows` must equal the signature length; the default splits it into bands of 4 rows. */
  constructor(
    numHashes: number,
    bands?: number,
    rows?: number,
    private readonly ngram = 3,
  ) {
    const r = rows ?? (numHashes % 4 === 0 ? 4 : 1);
    this.index = new SketchIndex({ bands: bands ?? numHashes / r, rows: r });
  }

  /** Payload bytes of the persisted entries. */
  get persistedBytes(): number {
    return this.bytes;
  }

  get persistedEntries(): number {
    return this.count;
  }

  get(id: string): Known | undefined {
    return this.map.get(id);
  }

  has(id: string): boolean {
    return this.map.has(id);
  }

  stateOf(id: string): KnownState | undefined {
    return this.map.get(id)?.state;
  }

  ids(state?: KnownState): string[] {
    const out: string[] = [];
    for (const [id, k] of this.map) if (state === undefined || k.state === state) out.push(id);
    return out;
  }

  /** Record (or replace) `rec`; returns its sequence number. */
  set(rec: IndexRecord, state: KnownState): number {
    this.drop(rec.id);
    const seq = ++this.seq;
    this.map.set(rec.id, { rec, state, seq });
    this.index.add(rec.id, rec.sketch, shingleCount(rec.numTokens, this.ngram));
    if (state === 'persisted') {
      this.bytes += rec.bytes;
      this.count++;
    }
    return seq;
  }

  /** Move a pending entry back to memory-only (its write failed); persisted totals are unchanged. */
  markMemoryOnly(id: string): void {
    const k = this.map.get(id);
    if (k && k.state === 'pending') k.state = 'memory';
  }

  drop(id: string): Known | undefined {
    const k = this.map.get(id);
    if (!k) return undefined;
    this.map.delete(id);
    this.index.remove(id);
    if (k.state === 'persisted') {
      this.bytes -= k.rec.bytes;
      this.count--;
    }
    return k;
  }

  clear(): void {
    this.map.clear();
    this.index.clear();
    this.bytes = 0;
    this.count = 0;
  }

  /** Set the recency of a known entry (no effect on an unknown one). */
  touch(id: string, lastUsed: number): Known | undefined {
    const k = this.map.get(id);
    if (k) k.rec.lastUsed = lastUsed;
    return k;
  }

  /** The least recently used persisted entry other than `keep`. */
  lruPersisted(keep?: string): string | undefined {
    let victim: Known | undefined;
    for (const k of this.map.values()) {
      if (k.state !== 'persisted' || k.rec.id === keep) continue;
      if (!victim || k.rec.lastUsed < victim.rec.lastUsed) victim = k;
    }
    return victim?.rec.id;
  }

  /** Entries ranked by estimated containment of a query of `queryTokens` tokens. */
  query(sig: Uint32Array, queryTokens: number, topK: number, threshold?: number): SketchMatch[] {
    return this.index.query(sig, { topK, threshold, querySize: shingleCount(queryTokens, this.ngram) });
  }

  /** Metadata of every known entry, least recently used first. */
  list(expect: EntryExpectation): KVEntryMeta[] {
    return [...this.map.values()]
      .map((k) => recordMeta(k.rec, expect))
      .sort((a, b) => a.lastUsed - b.lastUsed || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }
}
