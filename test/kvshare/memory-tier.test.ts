import { describe, expect, it } from 'vitest';
import { CacheEntryError, InvalidArgumentError } from '../../src/errors.ts';
import { entryBytes } from '../../src/kvshare/entry.ts';
import { MemoryTier } from '../../src/kvshare/memory-tier.ts';
import { MODEL, mulberry32, randomTokens, syntheticEntry } from './helpers.ts';

const SIZE = entryBytes(syntheticEntry('x', [1, 2, 3, 4, 5])); // bytes of a 5-token entry

function cache(budgetBytes: number) {
  let now = 1000;
  const clock = () => now;
  const c = new MemoryTier({ ...MODEL, vocabSize: 512, budgetBytes, clock });
  return { c, tick: (ms = 1) => (now += ms) };
}

const e5 = (id: string, first = 1) => syntheticEntry(id, [first, first + 1, first + 2, first + 3, first + 4]);

describe('MemoryTier', () => {
  it('evicts least recently used entries first; get() refreshes recency', () => {
    const { c, tick } = cache(3 * SIZE);
    expect(c.store(e5('a')).evicted).toEqual([]);
    tick();
    c.store(e5('b', 10));
    tick();
    c.store(e5('c', 20));
    tick();
    expect(c.get('a')?.lastUsed).toBe(1003); // a is now the most recent
    tick();
    expect(c.store(e5('d', 30)).evicted).toEqual(['b']);
    expect(c.list().map((m) => m.id)).toEqual(['c', 'a', 'd']);
    expect(c.peek('c')?.lastUsed).toBe(1002); // peek does not touch
    expect(c.store(e5('e', 40)).evicted).toEqual(['c']);
    expect(c.has('b')).toBe(false);
    expect(c.get('b')).toBeUndefined();
  });

  it('keeps within budget, evicting several entries for a large one', () => {
    const { c } = cache(3 * SIZE);
    c.store(e5('a'));
    c.store(e5('b', 10));
    c.store(e5('c', 20));
    const big = syntheticEntry('big', randomTokens(mulberry32(1), 9, 500)); // about 1.8 × SIZE
    expect(entryBytes(big)).toBeGreaterThan(SIZE);
    expect(c.store(big).evicted).toEqual(['a', 'b']);
    const s = c.stats();
    expect(s.entries).toBe(2);
    expect(s.bytes).toBe(SIZE + entryBytes(big));
    expect(s.bytes).toBeLessThanOrEqual(s.budgetBytes);
  });

  it('refuses an entry larger than the whole budget without changing anything', () => {
    const { c } = cache(SIZE + 10);
    c.store(e5('a'));
    const big = syntheticEntry('big', [1, 2, 3, 4, 5, 6]);
    expect(() => c.store(big)).toThrow(InvalidArgumentError);
    expect(() => c.store(big)).toThrow(/needs \d+ bytes, more than the whole cache budget/);
    expect(c.list().map((m) => m.id)).toEqual(['a']);
  });

  it('validates entries on add and refuses other models or sketch settings', () => {
    const { c } = cache(10 * SIZE);
    const wrongModel = e5('w');
    wrongModel.fingerprint = '00';
    expect(() => c.store(wrongModel)).toThrow(CacheEntryError);
    const wrongTok = syntheticEntry('t', [1, 2, 600]);
    expect(() => c.store(wrongTok)).toThrow(/token id 600/);
    const wrongSketch = e5('s');
    wrongSketch.sketch = wrongSketch.sketch.subarray(0, 32);
    expect(() => c.store(wrongSketch)).toThrow(/sketch has 32 hashes, this cache uses 64/);
    expect(c.stats().entries).toBe(0);
  });

  it('replaces an entry with the same id, and deletes and clears', () => {
    const { c } = cache(10 * SIZE);
    c.store(e5('a'));
    c.store(e5('b', 10));
    c.store(e5('a', 20));
    expect(c.stats().entries).toBe(2);
    expect(c.stats().bytes).toBe(2 * SIZE);
    expect(c.list().map((m) => m.id)).toEqual(['b', 'a']);
    expect(Array.from(c.peek('a')!.tokens)).toEqual([20, 21, 22, 23, 24]);
    expect(c.delete('a')).toBe(true);
    expect(c.delete('a')).toBe(false);
    expect(c.query([20, 21, 22, 23, 24])).toEqual([]);
    c.clear();
    expect(c.stats()).toMatchObject({ entries: 0, bytes: 0 });
    expect(c.query([10, 11, 12, 13, 14])).toEqual([]);
  });

  it('lists metadata without tensors', () => {
    const { c } = cache(10 * SIZE);
    c.store(e5('a'));
    const [m] = c.list();
    expect(m).toEqual({
      id: 'a',
      fingerprint: MODEL.fingerprint,
      numTokens: 5,
      numLayers: 2,
      kvDim: 4,
      bytes: SIZE,
      exact: false,
      createdAt: 0,
      lastUsed: 1000,
    });
    expect('k' in m).toBe(false);
  });

  it('queries its sketch index for similar cached prompts', () => {
    const { c } = cache(1e9);
    const rng = mulberry32(3);
    const prompts = Array.from({ length: 50 }, () => randomTokens(rng, 40, 500));
    for (let i = 0; i < prompts.length; i++) c.store(syntheticEntry(`p${i}`, prompts[i]));
    const query = prompts[17].slice();
    query[20] = 7;
    const hits = c.query(query, 3);
    expect(hits[0].id).toBe('p17');
    expect(hits[0].similarity).toBeGreaterThan(0.6);
    expect(hits.length).toBeLessThanOrEqual(3);
    expect(c.query(randomTokens(rng, 40, 500), 3, { threshold: 0.3 })).toEqual([]);
    expect(c.sketch(prompts[3])).toEqual(c.peek('p3')!.sketch);
  });

  it('finds the same near-duplicate through the LSH bands (exhaustiveBelow: 0) as by a full scan', () => {
    const { c } = cache(1e9);
    const rng = mulberry32(5);
    const prompts = Array.from({ length: 40 }, () => randomTokens(rng, 60, 500));
    for (let i = 0; i < prompts.length; i++) c.store(syntheticEntry(`p${i}`, prompts[i]));
    const query = prompts[9].slice();
    query[30] = 3; // one edit: Jaccard about 0.9, a band collision is near certain
    const lsh = c.query(query, 3, { exhaustiveBelow: 0 });
    expect(lsh[0]).toEqual(c.query(query, 1, { exhaustive: true })[0]);
    expect(lsh[0].id).toBe('p9');
    // An unrelated prompt shares no band: nothing is shortlisted.
    expect(c.query(randomTokens(rng, 60, 500), 3, { exhaustiveBelow: 0 })).toEqual([]);
  });

  it('records hits, misses and reused tokens', () => {
    const { c } = cache(10 * SIZE);
    c.store(e5('a'));
    c.recordHit(12);
    c.recordHit(3);
    c.recordMiss();
    expect(c.stats()).toEqual({
      entries: 1,
      bytes: SIZE,
      budgetBytes: 10 * SIZE,
      hits: 2,
      misses: 1,
      reusedTokens: 15,
    });
    expect(() => c.recordHit(-1)).toThrow(InvalidArgumentError);
    c.resetStats();
    expect(c.stats()).toMatchObject({ hits: 0, misses: 0, reusedTokens: 0 });
    expect(() => new MemoryTier({ ...MODEL, budgetBytes: -1 })).toThrow(InvalidArgumentError);
  });
});
