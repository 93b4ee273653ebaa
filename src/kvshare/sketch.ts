/**
 * Retrieval sketches (docs/DESIGN.md, Retrieve): MinHash signatures over token n-grams and an LSH index over them.
 *
 * A prompt is the set of its token n-grams ("shingles"; a prompt shorter than n is one shingle of all its
 * tokens). Each shingle is hashed once to 32 bits (MurmurHash3-style mixing of the token ids), then through
 * `numHashes` fixed seeded hash functions h_i(x) = fmix32(x ^ seed_i); slot i of the signature is the
 * minimum of h_i over the shingles. All arithmetic is 32-bit integer math (Math.imul, >>>), so signatures
 * are identical on every platform and run. The fraction of equal slots estimates the Jaccard similarity of
 * the two shingle sets (standard error about sqrt(J(1 - J) / numHashes)).
 *
 * Ranking: what reuse needs is the share of the *query's* shingles an entry holds (containment), not
 * Jaccard: an entry that stores a prompt plus a long answer shares little with a new, similar prompt by
 * Jaccard, yet covers most of it. Given both shingle counts, |Q ∩ E| = J (|Q| + |E|) / (1 + J), so the
 * containment |Q ∩ E| / |Q| follows from the MinHash estimate of J (`estimateContainment`).
 *
 * Shortlisting: up to `exhaustiveBelow` entries (default 4096) every signature is compared (64 slots
 * each: well under a millisecond). Beyond that, the index's LSH bands shortlist: the signature is split
 * into `bands` bands of `rows` slots, and entries sharing a whole band with the query are candidates.
 * An entry of Jaccard similarity s becomes a candidate with probability 1 - (1 - s^rows)^bands; for
 * 16 × 4: s = 0.3 → 12%, 0.5 → 64%, 0.7 → 98%, 0.8 → 99.9%.
 */
import { InvalidArgumentError } from '../errors.ts';

export interface SketchOptions {
  numHashes?: number; // signature length (default 64)
  ngram?: number; // shingle length in tokens (default 3)
}

/** Value of every slot of the signature of an empty sequence (no shingles). */
export const EMPTY_SLOT = 0xffffffff;

const SEED_CACHE = new Map<number, Uint32Array>();

/** The first `count` fixed seeds (splitmix32 from a constant), identical on every platform. */
function seeds(count: number): Uint32Array {
  let s = SEED_CACHE.get(count);
  if (!s) {
    s = new Uint32Array(count); // [numHashes]
    let state = 0x9e3779b9;
    for (let i = 0; i < count; i++) {
      state = (state + 0x9e3779b9) | 0;
      s[i] = fmix32(state);
    }
    SEED_CACHE.set(count, s);
  }
  return s;
}

/** MurmurHash3 finaliser: a bijection on 32-bit integers with good avalanche. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** 32-bit hash of tokens[start, start + len) (MurmurHash3 x86_32 body over the ids, seed 0). */
function shingleHash(tokens: ArrayLike<number>, start: number, len: number): number {
  let h = 0;
  for (let t = 0; t < len; t++) {
    let k = Math.imul(tokens[start + t] | 0, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, 0x1b873593);
    h ^= k;
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  return fmix32(h ^ len);
}

function checkOptions(opts: SketchOptions): { numHashes: number; ngram: number } {
  const numHashes = opts.numHashes ?? 64;
  const ngram = opts.ngram ?? 3;
  if (!Number.isInteger(numHashes) || numHashes < 1) {
    throw new InvalidArgumentError(`numHashes must be a positive integer, got ${numHashes}`);
  }
  if (!Number.isInteger(ngram) || ngram < 1)
    throw new InvalidArgumentError(`ngram must be a positive integer, got ${ngram}`);
  return { numHashes, ngram };
}

/** MinHash signature of the token n-gram set of `tokens`. Cost: O(T · numHashes). */
export function minhashSignature(tokens: ArrayLike<number>, opts: SketchOptions = {}): Uint32Array {
  const { numHashes, ngram } = checkOptions(opts);
  const sig = new Uint32Array(numHashes).fill(EMPTY_SLOT); // [numHashes]
  if (tokens.length === 0) return sig;
  const n = Math.min(ngram, tokens.length);
  const seed = seeds(numHashes);
  for (let s = 0; s + n <= tokens.length; s++) {
    const x = shingleHash(tokens, s, n);
    for (let i = 0; i < numHashes; i++) {
      const h = fmix32(x ^ seed[i]);
      if (h < sig[i]) sig[i] = h;
    }
  }
  return sig;
}

/** Fraction of equal slots: the MinHash estimate of Jaccard similarity. Slots empty on both sides don't match. */
export function estimateJaccard(a: Uint32Array, b: Uint32Array): number {
  if (a.length !== b.length) {
    throw new InvalidArgumentError(`signatures differ in length: ${a.length} vs ${b.length}`);
  }
  if (a.length === 0) return 0;
  let eq = 0;
  for (let i = 0; i < a.length; i++) if (a[i] === b[i] && a[i] !== EMPTY_SLOT) eq++;
  return eq / a.length;
}

/** Exact Jaccard similarity of the n-gram sets (same shingling as minhashSignature); 0 if either is empty. */
export function tokenJaccard(a: ArrayLike<number>, b: ArrayLike<number>, ngram = 3): number {
  const sa = shingles(a, ngram);
  const sb = shingles(b, ngram);
  if (sa.size === 0 || sb.size === 0) return 0;
  let inter = 0;
  for (const s of sa) if (sb.has(s)) inter++;
  return inter / (sa.size + sb.size - inter);
}

function shingles(tokens: ArrayLike<number>, ngram: number): Set<string> {
  const out = new Set<string>();
  if (tokens.length === 0) return out;
  const n = Math.min(ngram, tokens.length);
  for (let s = 0; s + n <= tokens.length; s++)
    out.add(Array.prototype.slice.call(tokens, s, s + n).join(','));
  return out;
}

export interface SketchIndexOptions {
  bands?: number; // default 16
  rows?: number; // slots per band, default 4; bands × rows must equal the signature length
}

export interface SketchQueryOptions {
  topK?: number; // default 5
  threshold?: number; // minimum similarity (the ranking score below), default 0
  exhaustive?: boolean; // compare with every entry, however many (default: only up to exhaustiveBelow)
  exhaustiveBelow?: number; // compare with every entry while the index holds at most this many (default 4096)
  /** Shingles of the query (shingleCount); given, entries with a known size rank by containment. */
  querySize?: number;
}

export interface SketchMatch {
  id: string;
  /** Estimated containment of the query in the entry when sizes are known, else estimated Jaccard. */
  similarity: number;
  /** Estimated Jaccard similarity of the two shingle sets. */
  jaccard: number;
}

/** Shingles (n-grams) minhashSignature hashes for a sequence of `tokens` tokens. */
export function shingleCount(tokens: number, ngram = 3): number {
  return tokens <= 0 ? 0 : Math.max(1, tokens - ngram + 1);
}

/**
 * Estimated share of the query's shingles that the entry holds, from the Jaccard estimate `j` and the
 * two shingle counts: |Q ∩ E| = j (|Q| + |E|) / (1 + j). Clamped to [0, 1].
 */
export function estimateContainment(j: number, querySize: number, entrySize: number): number {
  if (j <= 0 || querySize <= 0 || entrySize <= 0) return 0;
  return Math.min(1, (j * (querySize + entrySize)) / ((1 + j) * querySize));
}

/** LSH-banded MinHash index: add/remove signatures by id, query for the most similar. */
export class SketchIndex {
  readonly bands: number;
  readonly rows: number;
  private readonly sigs = new Map<string, Uint32Array>();
  private readonly sizes = new Map<string, number>(); // id → shingle count, where known
  private readonly buckets: Map<number, Set<string>>[]; // [bands] band hash → ids

  constructor(opts: SketchIndexOptions = {}) {
    this.bands = opts.bands ?? 16;
    this.rows = opts.rows ?? 4;
    if (!Number.isInteger(this.bands) || this.bands < 1 || !Number.isInteger(this.rows) || this.rows < 1) {
      throw new InvalidArgumentError(
        `bands and rows must be positive integers, got ${this.bands} × ${this.rows}`,
      );
    }
    this.buckets = Array.from({ length: this.bands }, () => new Map<number, Set<string>>());
  }

  /** Signature length this index expects. */
  get numHashes(): number {
    return this.bands * this.rows;
  }

  get size(): number {
    return this.sigs.size;
  }

  has(id: string): boolean {
    return this.sigs.has(id);
  }

  /** Add (or replace) the signature of `id`; `size` is its shingle count (shingleCount), if known. */
  add(id: string, sig: Uint32Array, size?: number): void {
    this.checkSig(sig);
    this.remove(id);
    this.sigs.set(id, sig);
    if (size !== undefined && size > 0) this.sizes.set(id, size);
    for (let b = 0; b < this.bands; b++) {
      const key = this.bandKey(sig, b);
      const bucket = this.buckets[b].get(key);
      if (bucket) bucket.add(id);
      else this.buckets[b].set(key, new Set([id]));
    }
  }

  /** Remove `id`; returns whether it was present. */
  remove(id: string): boolean {
    const sig = this.sigs.get(id);
    if (!sig) return false;
    for (let b = 0; b < this.bands; b++) {
      const key = this.bandKey(sig, b);
      const bucket = this.buckets[b].get(key);
      if (!bucket) continue;
      bucket.delete(id);
      if (bucket.size === 0) this.buckets[b].delete(key);
    }
    this.sigs.delete(id);
    this.sizes.delete(id);
    return true;
  }

  clear(): void {
    this.sigs.clear();
    this.sizes.clear();
    for (const m of this.buckets) m.clear();
  }

  /** Entries most similar to `sig`, by similarity descending (ties: Jaccard descending, then id), at most topK. */
  query(sig: Uint32Array, opts: SketchQueryOptions = {}): SketchMatch[] {
    this.checkSig(sig);
    const topK = opts.topK ?? 5;
    const threshold = opts.threshold ?? 0;
    let candidates: Iterable<string>;
    if (opts.exhaustive || this.sigs.size <= (opts.exhaustiveBelow ?? 4096)) {
      candidates = this.sigs.keys();
    } else {
      const set = new Set<string>();
      for (let b = 0; b < this.bands; b++) {
        const bucket = this.buckets[b].get(this.bandKey(sig, b));
        if (bucket) for (const id of bucket) set.add(id);
      }
      candidates = set;
    }
    const out: SketchMatch[] = [];
    const q = opts.querySize;
    for (const id of candidates) {
      const jaccard = estimateJaccard(sig, this.sigs.get(id)!);
      const size = this.sizes.get(id);
      const similarity =
        q !== undefined && size !== undefined ? estimateContainment(jaccard, q, size) : jaccard;
      if (similarity >= threshold && similarity > 0) out.push({ id, similarity, jaccard });
    }
    // Equal containment (e.g. several entries holding all of the query): the closest entry first.
    out.sort(
      (x, y) =>
        y.similarity - x.similarity || y.jaccard - x.jaccard || (x.id < y.id ? -1 : x.id > y.id ? 1 : 0),
    );
    return out.slice(0, topK);
  }

  private checkSig(sig: Uint32Array): void {
    if (sig.length !== this.numHashes) {
      throw new InvalidArgumentError(
        `signature has ${sig.length} slots, this index uses ${this.bands} bands × ${this.rows} rows`,
      );
    }
  }

  /** 32-bit hash of the band's slots; collisions only add candidates that the exact comparison then filters. */
  private bandKey(sig: Uint32Array, band: number): number {
    let h = band;
    const start = band * this.rows;
    for (let r = 0; r < this.rows; r++) h = fmix32((h ^ sig[start + r]) + Math.imul(r + 1, 0x9e3779b9));
    return h;
  }
}
