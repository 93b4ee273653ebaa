/** Shared fixtures for the KVShare CPU tests: seeded random sequences, a reference LCS, synthetic entries. */
import { type KVEntry, makeEntry } from '../../src/kvshare/entry.ts';
import { mulberry32 } from '../../src/util/prng.ts';

export { mulberry32 };

/** Random integers in [0, alphabet), length `len`. */
export function randomTokens(rng: () => number, len: number, alphabet: number): number[] {
  return Array.from({ length: len }, () => Math.floor(rng() * alphabet));
}

/** Textbook O(N·M) dynamic-programming LCS length, the reference for the Myers diff. */
export function lcsDp<T>(a: ArrayLike<T>, b: ArrayLike<T>): number {
  const m = b.length;
  let prev = new Int32Array(m + 1); // [M + 1] row i - 1 of the DP table
  let cur = new Int32Array(m + 1); // [M + 1] row i
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= m; j++) {
      cur[j] = a[i - 1] === b[j - 1] ? prev[j - 1] + 1 : Math.max(prev[j], cur[j - 1]);
    }
    [prev, cur] = [cur, prev];
  }
  return prev[m];
}

export const MODEL = { fingerprint: 'ab'.repeat(32), numLayers: 2, kvDim: 4 };

/** A valid entry for MODEL with T tokens; K/V values encode (layer, row, column) so copies are traceable. */
export function syntheticEntry(id: string, tokens: ArrayLike<number>, now = 0): KVEntry {
  const T = tokens.length;
  const layer = (l: number, sign: number): Float32Array =>
    Float32Array.from({ length: T * MODEL.kvDim }, (_, i) => sign * (l * 1000 + i)); // [T, kvDim]
  return makeEntry({
    id,
    fingerprint: MODEL.fingerprint,
    tokens,
    numLayers: MODEL.numLayers,
    kvDim: MODEL.kvDim,
    k: [layer(0, 1), layer(1, 1)],
    v: [layer(0, -1), layer(1, -1)],
    now,
  });
}
