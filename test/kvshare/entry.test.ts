import { describe, expect, it } from 'vitest';
import { CacheEntryError } from '../../src/errors.ts';
import { entryBytes, entryMeta, KV_ABS_LIMIT, type KVEntry, validateEntry } from '../../src/kvshare/entry.ts';
import { minhashSignature } from '../../src/kvshare/sketch.ts';
import { MODEL, syntheticEntry } from './helpers.ts';

const T = 5;

function fresh(): KVEntry {
  return syntheticEntry('e1', [1, 20, 30, 40, 50], 100);
}

/** Expect validateEntry to throw CacheEntryError whose message matches `pattern`. */
function rejects(mutate: (e: KVEntry) => void, pattern: RegExp, vocabSize?: number): void {
  const e = fresh();
  mutate(e);
  let caught: unknown;
  try {
    validateEntry(e, { ...MODEL, vocabSize });
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(CacheEntryError);
  expect((caught as CacheEntryError).code).toBe('CACHE_ENTRY_INVALID');
  expect((caught as Error).message).toMatch(pattern);
  expect((caught as Error).message).toMatch(/^cache entry "e1": /);
}

describe('KVEntry', () => {
  it('is built by makeEntry with default positions and a sketch', () => {
    const e = fresh();
    expect(Array.from(e.positions)).toEqual([0, 1, 2, 3, 4]);
    expect(e.sketch).toEqual(minhashSignature([1, 20, 30, 40, 50]));
    expect(e.createdAt).toBe(100);
    expect(e.lastUsed).toBe(100);
    expect(() => validateEntry(e, MODEL)).not.toThrow();
    expect(() => validateEntry(e, { ...MODEL, vocabSize: 51 })).not.toThrow();
  });

  it('counts the bytes of every array', () => {
    // tokens + positions: 2 × 5 × 4; K and V: 2 × 2 layers × 5 × 4 × 4; sketch: 64 × 4.
    expect(entryBytes(fresh())).toBe(40 + 320 + 256);
    expect(entryMeta(fresh())).toEqual({
      id: 'e1',
      fingerprint: MODEL.fingerprint,
      numTokens: T,
      numLayers: 2,
      kvDim: 4,
      bytes: 616,
      exact: false,
      createdAt: 100,
      lastUsed: 100,
    });
  });
});

describe('validateEntry rejects', () => {
  it('another model', () => rejects((e) => (e.fingerprint = 'cd'.repeat(32)), /model fingerprint mismatch/));
  it('a wrong layer count', () =>
    rejects((e) => (e.numLayers = 3), /wrong layer count: entry has 3, model has 2/));
  it('k or v with the wrong number of layers', () => {
    rejects((e) => e.k.pop(), /k holds 1 layers, expected 2/);
    rejects((e) => e.v.push(new Float32Array(T * 4)), /v holds 3 layers, expected 2/);
  });
  it('a kvDim mismatch', () => rejects((e) => (e.kvDim = 8), /kvDim mismatch: entry has 8, model has 4/));
  it('truncated K or V', () => {
    rejects((e) => (e.k[1] = e.k[1].subarray(0, 19)), /k\[1\] is truncated: 19 values, expected 5 × 4 = 20/);
    rejects((e) => (e.v[0] = new Float32Array(21)), /v\[0\] is too long: 21 values/);
  });
  it('a positions length mismatch', () =>
    rejects(
      (e) => (e.positions = e.positions.subarray(0, 4)),
      /positions length mismatch: 4 positions for 5 tokens/,
    ));
  it('a negative position', () => rejects((e) => (e.positions[2] = -1), /position -1 at row 2 is negative/));
  it('non-finite values', () => {
    rejects((e) => (e.k[0][7] = Number.NaN), /k\[0\] has the value NaN \(non-finite.*at row 1, column 3/);
    rejects((e) => (e.v[1][19] = Number.POSITIVE_INFINITY), /v\[1\] has the value Infinity .*at row 4/);
  });
  // Issue 8, finding 2: a finite but poisoned K value (3.4e38) passed and broke every similar request.
  it('finite values beyond the KV bound', () => {
    rejects(
      (e) => (e.k[1][2] = 3.4e38),
      /k\[1\] has the value 3\.39\d*e\+38 \(non-finite or beyond ±65504\)/,
    );
    rejects((e) => (e.v[0][0] = -70000), /v\[0\] has the value -70000/);
    expect(() => {
      const e = fresh();
      e.k[0][0] = KV_ABS_LIMIT;
      validateEntry(e, MODEL);
    }).not.toThrow();
  });
  // Issue 8, findings 2 and 3: positions past the context or not increasing misled prefix mode and the patch.
  it('positions past the context, reversed or repeated', () => {
    const ctx = (c: number) => (e: KVEntry) => validateEntry(e, { ...MODEL, contextLength: c });
    const e = fresh();
    expect(() => ctx(5)(e)).not.toThrow();
    expect(() => ctx(4)(e)).toThrow(/position 4 at row 4 is past the context of 4/);
    rejects((x) => x.positions.set([4, 3, 2, 1, 0]), /not strictly increasing: 4 then 3 at row 1/);
    rejects((x) => (x.positions[3] = 2), /not strictly increasing: 2 then 2 at row 3/);
  });
  it('a sketch of another length than the cache uses', () => {
    const e = fresh();
    expect(() => validateEntry(e, { ...MODEL, numHashes: e.sketch.length })).not.toThrow();
    expect(() => validateEntry(e, { ...MODEL, numHashes: e.sketch.length + 1 })).toThrow(
      /sketch has 64 hashes, this cache uses 65/,
    );
  });
  it('token ids out of range', () => {
    rejects((e) => (e.tokens[3] = 512), /token id 512 at row 3 is out of range \[0, 512\)/, 512);
    rejects((e) => (e.tokens[0] = -4), /token id -4 at row 0/);
  });
  it('wrong array types and empty entries', () => {
    rejects((e) => (e.tokens = new Float32Array(T) as unknown as Int32Array), /tokens must be an Int32Array/);
    rejects((e) => (e.k[0] = Array.from(e.k[0]) as unknown as Float32Array), /k\[0\] must be a Float32Array/);
    rejects((e) => (e.sketch = [] as unknown as Uint32Array), /sketch must be a Uint32Array/);
    rejects((e) => {
      e.tokens = new Int32Array(0);
      e.positions = new Int32Array(0);
    }, /has no tokens/);
    rejects((e) => (e.lastUsed = Number.NaN), /lastUsed must be finite/);
  });
});
