/**
 * The KV cache entry: one cached prompt with its per-layer keys and values. The same object is stored in
 * memory (MemoryTier) and, through structured clone, in IndexedDB, so it holds only plain data.
 */
import type { KVEntryMeta } from '../api/cache.ts';
import { CacheEntryError } from '../errors.ts';
import { KV_DTYPES, type KVArray, type KVDtype, kvConvert, kvDtypeOf, kvLength } from '../util/kv-dtype.ts';
import { isQ8Group, q8GroupBytes } from '../util/kv-q8.ts';
import { minhashSignature, type SketchOptions } from './sketch.ts';
import { checkUserMeta, type EntryUserMeta } from './user-meta.ts';

export interface KVEntry {
  id: string; // unique
  fingerprint: string; // model fingerprint (hex sha256); KV is never reused across models
  tokens: Int32Array; // [T] prompt token ids
  positions: Int32Array; // [T] position each row's K was rotated at (usually 0..T-1)
  numLayers: number; // L
  kvDim: number; // numKvHeads * headDim
  /** How k and v store their values: 'f32' (Float32Array), 'f16' (Uint16Array of half bits), 'q8' (Uint8Array of groups). */
  dtype: KVDtype;
  /** q8 only (absent otherwise): values per scale group of k and v (kv-q8.ts; the model's is q8GroupFor(headDim)). */
  q8Group?: number;
  k: KVArray[]; // L × [T, kvDim] of dtype, keys already RoPE-rotated at `positions`
  v: KVArray[]; // L × [T, kvDim] of dtype
  sketch: Uint32Array; // [numHashes] MinHash signature of `tokens`
  /** Every row equals a full computation of `tokens` (false after approximate reuse); prefix mode needs it. */
  exact: boolean;
  createdAt: number; // clock time (ms) when stored
  lastUsed: number; // clock time (ms) of the last add/get
  /** The application's metadata (checkUserMeta), absent when none was given. */
  meta?: EntryUserMeta;
}

/**
 * What a cache must hold an entry to. `vocabSize` bounds the token ids, `contextLength` (the loaded
 * runner's) bounds the positions, so the patch kernel's RoPE table (contextLength rows) is never indexed
 * past its end; `numHashes` is the sketch length of the cache the entry goes into.
 */
export interface EntryExpectation {
  fingerprint: string;
  numLayers: number;
  kvDim: number;
  vocabSize?: number;
  contextLength?: number;
  numHashes?: number;
  /** The K/V storage type the cache holds; entries of another are converted where they come in (conformEntry). */
  kvDtype?: KVDtype;
  /** The cache's q8 group (q8GroupFor(headDim)); q8 entries of another group are converted where they come in. */
  q8Group?: number;
}

/**
 * Largest |K| or |V| an entry may hold: the f16 maximum. Real models' K/V stay orders of magnitude
 * below it; a larger value is damage or poisoning and would overflow attention scores.
 */
export const KV_ABS_LIMIT = 65504;

export type { KVEntryMeta } from '../api/cache.ts';

/** Bytes of the entry's arrays (tokens, positions, K, V, sketch); what a memory budget counts. */
export function entryBytes(e: KVEntry): number {
  let bytes = e.tokens.byteLength + e.positions.byteLength + e.sketch.byteLength;
  for (const a of e.k) bytes += a.byteLength;
  for (const a of e.v) bytes += a.byteLength;
  return bytes;
}

export function entryMeta(e: KVEntry): KVEntryMeta {
  return {
    id: e.id,
    fingerprint: e.fingerprint,
    numTokens: e.tokens.length,
    numLayers: e.numLayers,
    kvDim: e.kvDim,
    bytes: entryBytes(e),
    exact: e.exact,
    createdAt: e.createdAt,
    lastUsed: e.lastUsed,
    ...(e.meta ? { meta: { ...e.meta } } : {}),
  };
}

export interface MakeEntryInput {
  id: string;
  fingerprint: string;
  tokens: ArrayLike<number>; // [T]
  positions?: ArrayLike<number>; // [T], default 0..T-1
  numLayers: number;
  kvDim: number;
  k: KVArray[]; // L × [T, kvDim]: Float32Array (f32), Uint16Array (f16 bits) or Uint8Array (q8), all alike
  v: KVArray[]; // L × [T, kvDim], the same type as k
  q8Group?: number; // the q8 group of k and v when they are q8 (Uint8Array)
  now: number;
  sketch?: SketchOptions; // how to compute the signature (must match the cache's options)
  exact?: boolean; // default false
  meta?: EntryUserMeta; // already checked (checkUserMeta)
}

/** Assemble an entry, computing positions (0..T-1 unless given) and the MinHash sketch. Does not validate. */
export function makeEntry(input: MakeEntryInput): KVEntry {
  const tokens = Int32Array.from(input.tokens);
  const dtype = input.k.length > 0 ? kvDtypeOf(input.k[0]) : 'f32';
  const positions = input.positions
    ? Int32Array.from(input.positions)
    : Int32Array.from({ length: tokens.length }, (_, i) => i);
  return {
    id: input.id,
    fingerprint: input.fingerprint,
    tokens,
    positions,
    numLayers: input.numLayers,
    kvDim: input.kvDim,
    dtype,
    ...(dtype === 'q8' ? { q8Group: input.q8Group } : {}),
    k: input.k,
    v: input.v,
    sketch: minhashSignature(tokens, input.sketch),
    exact: input.exact ?? false,
    createdAt: input.now,
    lastUsed: input.now,
    ...(input.meta ? { meta: input.meta } : {}),
  };
}

/**
 * Throws CacheEntryError naming the first problem found: wrong model, wrong shape, truncated, non-finite
 * or out-of-bound (KV_ABS_LIMIT) tensors, positions that are negative, past the context or not strictly
 * increasing, token ids outside the vocabulary, a sketch of the wrong length. Cost: one pass over K and V
 * (O(L · T · kvDim)), so it runs once where an entry comes in (add, IndexedDB read, pack import), never
 * per retrieval.
 */
export function validateEntry(e: KVEntry, expect: EntryExpectation): void {
  const where = `cache entry ${JSON.stringify(typeof e?.id === 'string' ? e.id : '?')}`;
  const fail: (msg: string) => never = (msg) => {
    throw new CacheEntryError(`${where}: ${msg}`);
  };
  if (typeof e !== 'object' || e === null) fail('is not an object');
  if (typeof e.id !== 'string' || e.id.length === 0) fail('id must be a non-empty string');
  if (e.fingerprint !== expect.fingerprint) {
    fail(`model fingerprint mismatch: entry ${e.fingerprint}, loaded model ${expect.fingerprint}`);
  }
  if (e.numLayers !== expect.numLayers)
    fail(`wrong layer count: entry has ${e.numLayers}, model has ${expect.numLayers}`);
  if (e.kvDim !== expect.kvDim) fail(`kvDim mismatch: entry has ${e.kvDim}, model has ${expect.kvDim}`);
  if (!(e.tokens instanceof Int32Array)) fail('tokens must be an Int32Array');
  if (!(e.positions instanceof Int32Array)) fail('positions must be an Int32Array');
  if (!(e.sketch instanceof Uint32Array)) fail('sketch must be a Uint32Array');
  const T = e.tokens.length;
  if (T === 0) fail('has no tokens');
  if (e.positions.length !== T)
    fail(`positions length mismatch: ${e.positions.length} positions for ${T} tokens`);
  const ctx = expect.contextLength;
  for (let i = 0; i < T; i++) {
    const p = e.positions[i];
    if (p < 0) fail(`position ${p} at row ${i} is negative`);
    if (ctx !== undefined && p >= ctx) fail(`position ${p} at row ${i} is past the context of ${ctx}`);
    if (i > 0 && p <= e.positions[i - 1]) {
      fail(`positions are not strictly increasing: ${e.positions[i - 1]} then ${p} at row ${i}`);
    }
  }
  if (ctx !== undefined && T > ctx) fail(`has ${T} tokens, more than the context of ${ctx}`);
  if (expect.numHashes !== undefined && e.sketch.length !== expect.numHashes) {
    fail(`sketch has ${e.sketch.length} hashes, this cache uses ${expect.numHashes}`);
  }
  if (typeof e.exact !== 'boolean') fail('exact must be true or false');
  for (let i = 0; i < T; i++) {
    const t = e.tokens[i];
    if (t < 0 || (expect.vocabSize !== undefined && t >= expect.vocabSize)) {
      fail(`token id ${t} at row ${i} is out of range [0, ${expect.vocabSize ?? '2^31'})`);
    }
  }
  if (!Array.isArray(e.k) || e.k.length !== expect.numLayers) {
    fail(`k holds ${Array.isArray(e.k) ? e.k.length : 'no'} layers, expected ${expect.numLayers}`);
  }
  if (!Array.isArray(e.v) || e.v.length !== expect.numLayers) {
    fail(`v holds ${Array.isArray(e.v) ? e.v.length : 'no'} layers, expected ${expect.numLayers}`);
  }
  if (!KV_DTYPES.includes(e.dtype)) fail(`has an unknown K/V dtype ${JSON.stringify(e.dtype)}`);
  const group = e.q8Group ?? 0;
  if (e.dtype === 'q8') {
    if (!isQ8Group(e.q8Group))
      fail(`is q8 with the invalid group ${JSON.stringify(e.q8Group)} (a multiple of 4 in [4, 32])`);
    if (expect.kvDim % group !== 0)
      fail(`is q8 in groups of ${group}, which needs kvDim % ${group} == 0 (got ${expect.kvDim})`);
  } else if (e.q8Group !== undefined)
    fail(`is ${e.dtype} but names a q8 group (${JSON.stringify(e.q8Group)})`);
  const want = T * expect.kvDim;
  for (const [name, arrays] of [
    ['k', e.k],
    ['v', e.v],
  ] as const) {
    for (let l = 0; l < arrays.length; l++) {
      const a = arrays[l];
      if (e.dtype === 'q8') {
        if (!(a instanceof Uint8Array)) fail(`${name}[${l}] must be a Uint8Array (q8 groups)`);
      } else if (e.dtype === 'f16') {
        if (!(a instanceof Uint16Array)) fail(`${name}[${l}] must be a Uint16Array (f16 bits)`);
      } else if (!(a instanceof Float32Array)) fail(`${name}[${l}] must be a Float32Array`);
      const len = kvLength(e.dtype, want, group);
      if (a.length !== len) {
        const what = a.length < len ? 'is truncated' : 'is too long';
        const expected = `${T} × ${expect.kvDim} = ${want}`;
        fail(
          e.dtype === 'q8'
            ? `${name}[${l}] ${what}: ${a.length} bytes, expected ${len} (q8 groups of ${expected} values)`
            : `${name}[${l}] ${what}: ${a.length} values, expected ${expected}`,
        );
      }
      if (a instanceof Uint8Array) {
        // codes are any int8; each group's scale must be finite, >= 0 and keep 127 × scale within the bound
        const dv = new DataView(a.buffer, a.byteOffset, a.byteLength);
        const gb = q8GroupBytes(group);
        for (let g = 0; g < want / group; g++) {
          const s = dv.getFloat32(g * gb + group, true);
          if (!(s >= 0 && 127 * s <= KV_ABS_LIMIT)) {
            const col = (g * group) % expect.kvDim;
            fail(
              `${name}[${l}] has the q8 scale ${s} (negative, non-finite or beyond ±${KV_ABS_LIMIT} / 127) at row ${Math.floor((g * group) / expect.kvDim)}, columns ${col}..${col + group - 1}`,
            );
          }
        }
        continue;
      }
      if (a instanceof Uint16Array) {
        // every finite half lies within ±KV_ABS_LIMIT; exponent 31 is ±Inf or NaN
        for (let i = 0; i < want; i++) {
          if ((a[i] & 0x7c00) === 0x7c00) {
            fail(
              `${name}[${l}] has a non-finite f16 value at row ${Math.floor(i / expect.kvDim)}, column ${i % expect.kvDim}`,
            );
          }
        }
        continue;
      }
      for (let i = 0; i < want; i++) {
        // NaN fails both comparisons; ±Inf and poisoned magnitudes fail the bound.
        if (!(a[i] <= KV_ABS_LIMIT && a[i] >= -KV_ABS_LIMIT)) {
          fail(
            `${name}[${l}] has the value ${a[i]} (non-finite or beyond ±${KV_ABS_LIMIT}) at row ${Math.floor(i / expect.kvDim)}, column ${i % expect.kvDim}`,
          );
        }
      }
    }
  }
  if (!Number.isFinite(e.createdAt) || !Number.isFinite(e.lastUsed))
    fail('createdAt and lastUsed must be finite numbers');
  if (e.meta !== undefined) checkUserMeta(e.meta, fail);
}

/**
 * `e` with its K/V stored as `dtype` (q8: in groups of `group`, the cache's q8GroupFor(headDim)); e
 * itself when they already are. To f16 rounds each value to the nearest half, to q8 quantizes each
 * group (q8 of another group: from the values the entry holds), to f32 is exact. Where entries come
 * in (add, IndexedDB read, pack import), so a cache holds one dtype and group and kernels never read
 * one as another.
 */
export function conformEntry(e: KVEntry, dtype: KVDtype | undefined, group: number | undefined): KVEntry {
  if (dtype === undefined || (e.dtype === dtype && (dtype !== 'q8' || e.q8Group === group))) return e;
  if (dtype === 'q8' && !isQ8Group(group)) {
    throw new CacheEntryError(
      `cache entry ${JSON.stringify(e.id)}: no valid q8 group to convert it to (${group})`,
    );
  }
  const from = e.q8Group ?? 0;
  const to = group ?? 0;
  const { q8Group: _, ...rest } = e;
  const convert = (a: KVArray) => kvConvert(a, from, dtype, to);
  return {
    ...rest,
    dtype,
    ...(dtype === 'q8' ? { q8Group: to } : {}),
    k: e.k.map(convert),
    v: e.v.map(convert),
  };
}
