import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../src/errors.ts';
import {
  EMPTY_SLOT,
  estimateContainment,
  estimateJaccard,
  minhashSignature,
  SketchIndex,
  shingleCount,
  tokenJaccard,
} from '../../src/kvshare/sketch.ts';
import { mulberry32, randomTokens } from './helpers.ts';

/** `base` with `edits` random substitutions drawn from tokens outside the base alphabet. */
function edited(rng: () => number, base: number[], edits: number): number[] {
  const out = base.slice();
  for (let e = 0; e < edits; e++) out[Math.floor(rng() * out.length)] = 100_000 + Math.floor(rng() * 1000);
  return out;
}

describe('minhashSignature', () => {
  it('is deterministic and pinned (platform-independent 32-bit math)', () => {
    const sig = minhashSignature([1, 403, 407, 261, 378]);
    expect(sig).toBeInstanceOf(Uint32Array);
    expect(sig.length).toBe(64);
    expect(Array.from(sig.subarray(0, 4))).toEqual([17186143, 104090466, 2627830733, 1072690332]);
    expect(Array.from(minhashSignature([7], { numHashes: 4 }))).toEqual([
      1822028740, 1338176710, 2413660050, 1329549416,
    ]);
    expect(minhashSignature(Int32Array.from([1, 403, 407, 261, 378]))).toEqual(sig);
  });

  it('treats a sequence shorter than n as one shingle, and an empty one as the empty set', () => {
    expect(estimateJaccard(minhashSignature([5, 6]), minhashSignature([5, 6]))).toBe(1);
    expect(estimateJaccard(minhashSignature([5, 6]), minhashSignature([6, 5]))).toBeLessThan(0.2);
    expect(Array.from(minhashSignature([7])).some((x) => x === EMPTY_SLOT)).toBe(false);
    const empty = minhashSignature([]);
    expect(Array.from(empty).every((x) => x === EMPTY_SLOT)).toBe(true);
    expect(estimateJaccard(empty, empty)).toBe(0);
    expect(tokenJaccard([], [])).toBe(0);
    expect(tokenJaccard([5, 6], [5, 6])).toBe(1);
  });

  it('respects numHashes and ngram, and rejects bad options', () => {
    expect(minhashSignature([1, 2, 3], { numHashes: 16 }).length).toBe(16);
    // With unigrams, a permutation has the same shingle set.
    expect(
      estimateJaccard(minhashSignature([1, 2, 3], { ngram: 1 }), minhashSignature([3, 1, 2], { ngram: 1 })),
    ).toBe(1);
    expect(() => minhashSignature([1], { numHashes: 0 })).toThrow(InvalidArgumentError);
    expect(() => minhashSignature([1], { ngram: 1.5 })).toThrow(InvalidArgumentError);
    expect(() => estimateJaccard(new Uint32Array(4), new Uint32Array(8))).toThrow(InvalidArgumentError);
  });

  it('rates near-duplicates far above unrelated sequences, close to the exact Jaccard', () => {
    const rng = mulberry32(31);
    for (let trial = 0; trial < 20; trial++) {
      const base = randomTokens(rng, 120, 512);
      const near = edited(rng, base, 3);
      const other = randomTokens(rng, 120, 512);
      const sNear = estimateJaccard(minhashSignature(base), minhashSignature(near));
      const sOther = estimateJaccard(minhashSignature(base), minhashSignature(other));
      expect(sNear).toBeGreaterThan(0.6);
      expect(sOther).toBeLessThan(0.1);
      expect(Math.abs(sNear - tokenJaccard(base, near))).toBeLessThan(0.25);
    }
  });
});

describe('SketchIndex', () => {
  it('finds the true nearest entry among many random ones, as an exhaustive scan does', () => {
    const rng = mulberry32(8);
    const index = new SketchIndex();
    const prompts: number[][] = [];
    for (let i = 0; i < 2000; i++) {
      prompts.push(randomTokens(rng, 80, 2000));
      index.add(`e${i}`, minhashSignature(prompts[i]));
    }
    expect(index.size).toBe(2000);
    for (let q = 0; q < 25; q++) {
      const target = Math.floor(rng() * prompts.length);
      const query = edited(rng, prompts[target], 1 + (q % 4));
      const sig = minhashSignature(query);
      const hits = index.query(sig, { topK: 3 });
      expect(hits[0].id).toBe(`e${target}`);
      expect(index.query(sig, { topK: 1, exhaustive: true })[0]).toEqual(hits[0]);
      for (let h = 1; h < hits.length; h++)
        expect(hits[h].similarity).toBeLessThanOrEqual(hits[h - 1].similarity);
    }
  });

  it('excludes unrelated entries by threshold and honours topK', () => {
    const rng = mulberry32(9);
    const index = new SketchIndex();
    const base = randomTokens(rng, 60, 300);
    index.add('same', minhashSignature(base));
    index.add('near', minhashSignature(edited(rng, base, 2)));
    for (let i = 0; i < 200; i++) index.add(`r${i}`, minhashSignature(randomTokens(rng, 60, 300)));
    const unrelated = minhashSignature(randomTokens(rng, 60, 300));
    expect(index.query(unrelated, { threshold: 0.3 })).toEqual([]);
    expect(index.query(unrelated, { threshold: 0.3, exhaustive: true })).toEqual([]);
    const hits = index.query(minhashSignature(base), { topK: 1, threshold: 0.3 });
    expect(hits).toEqual([{ id: 'same', similarity: 1, jaccard: 1 }]);
    expect(index.query(minhashSignature(base), { topK: 10, threshold: 0.3 }).map((h) => h.id)).toEqual([
      'same',
      'near',
    ]);
  });

  it('removes and replaces entries', () => {
    const index = new SketchIndex();
    const a = minhashSignature([1, 2, 3, 4, 5]);
    const b = minhashSignature([9, 8, 7, 6, 5]);
    index.add('x', a);
    expect(index.query(a)[0].id).toBe('x');
    index.add('x', b); // replace
    expect(index.size).toBe(1);
    expect(index.query(a)).toEqual([]);
    expect(index.remove('x')).toBe(true);
    expect(index.remove('x')).toBe(false);
    expect(index.query(b)).toEqual([]);
    index.add('y', b);
    index.clear();
    expect(index.size).toBe(0);
    expect(index.has('y')).toBe(false);
  });

  it('checks signature length against bands × rows', () => {
    const index = new SketchIndex({ bands: 8, rows: 2 });
    expect(index.numHashes).toBe(16);
    index.add('ok', minhashSignature([1, 2, 3], { numHashes: 16 }));
    expect(() => index.add('bad', minhashSignature([1, 2, 3]))).toThrow(/8 bands × 2 rows/);
    expect(() => new SketchIndex({ bands: 0 })).toThrow(InvalidArgumentError);
  });
});

describe('containment ranking', () => {
  /** Exact share of the query's 3-gram shingles found in `entry`. */
  function exactContainment(query: number[], entry: number[]): number {
    const grams = (t: number[]) => new Set(t.slice(0, -2).map((_, i) => t.slice(i, i + 3).join(',')));
    const q = grams(query);
    const e = grams(entry);
    return [...q].filter((g) => e.has(g)).length / q.size;
  }

  it('estimates the share of the query an entry holds from Jaccard and the sizes', () => {
    const rng = mulberry32(11);
    const prompt = randomTokens(rng, 40, 5000);
    const entry = [...prompt, ...randomTokens(rng, 200, 5000)]; // the prompt plus a long answer
    const query = edited(rng, prompt, 3);
    const sig = (t: number[]) => minhashSignature(t, { numHashes: 256 });
    const j = estimateJaccard(sig(query), sig(entry));
    const c = estimateContainment(j, shingleCount(query.length), shingleCount(entry.length));
    expect(j).toBeLessThan(0.3);
    expect(Math.abs(c - exactContainment(query, entry))).toBeLessThan(0.15);
    expect(estimateContainment(1, 10, 10)).toBe(1);
    expect(estimateContainment(0, 10, 10)).toBe(0);
    expect(shingleCount(1)).toBe(1);
    expect(shingleCount(0)).toBe(0);
  });

  it('finds an entry holding the query plus a long answer, which Jaccard and LSH would pass over', () => {
    const rng = mulberry32(12);
    const prompt = randomTokens(rng, 24, 5000);
    const long = [...prompt, ...randomTokens(rng, 120, 5000)];
    const other = randomTokens(rng, 40, 5000);
    const query = edited(rng, prompt, 2);
    const index = new SketchIndex();
    index.add('long', minhashSignature(long), shingleCount(long.length));
    index.add('other', minhashSignature(other), shingleCount(other.length));
    const hits = index.query(minhashSignature(query), {
      querySize: shingleCount(query.length),
      threshold: 0.3,
    });
    expect(hits.map((h) => h.id)).toEqual(['long']);
    expect(hits[0].similarity).toBeGreaterThan(0.5);
    expect(hits[0].jaccard).toBeLessThan(0.3);
    // Forced onto the LSH shortlist (and ranked by Jaccard), the same entry is missed.
    const lsh = index.query(minhashSignature(query), { exhaustiveBelow: 0, threshold: 0.3 });
    expect(lsh).toEqual([]);
  });

  it('among entries holding all of the query, ranks the closest (highest Jaccard) first', () => {
    const rng = mulberry32(13);
    const prompt = randomTokens(rng, 30, 5000);
    const index = new SketchIndex();
    // Several stored answers to the same prompt (ids sorting before the bare prompt's), then the prompt itself.
    for (let i = 0; i < 6; i++) {
      const t = [...prompt, ...randomTokens(rng, 60, 5000)];
      index.add(`a${i}`, minhashSignature(t), shingleCount(t.length));
    }
    index.add('z-same', minhashSignature(prompt), shingleCount(prompt.length));
    const hits = index.query(minhashSignature(prompt), {
      querySize: shingleCount(prompt.length),
      topK: 4,
      threshold: 0.99,
    });
    expect(hits[0]).toMatchObject({ id: 'z-same', similarity: 1, jaccard: 1 });
  });
});
