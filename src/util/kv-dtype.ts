/**
 * How K/V values are stored, on the GPU (live cache, hot tier) and on the host (entries, IndexedDB,
 * packs): 'f32' as float32, 'f16' as IEEE half bits (two per u32 word on the GPU, element 2j in the
 * low half: the layout of WGSL's pack2x16float and of a little-endian Uint16Array), 'q8' as int8 codes
 * with one f32 scale per group of G values (src/util/kv-q8.ts; G = q8GroupFor(headDim), 32 on real
 * models; the same bytes on the host and the GPU). Arithmetic is f32 everywhere; only storage narrows.
 * The functions here take the q8 group G of the arrays they read or write; f32 and f16 ignore it.
 */
import type { KVDtype } from '../api/model.ts';
import { InvalidArgumentError } from '../errors.ts';
import { dequantizeQ8, q8Bytes, q8GroupFor, quantizeQ8 } from './kv-q8.ts';

export type { KVDtype } from '../api/model.ts';
export const KV_DTYPES: readonly KVDtype[] = ['f32', 'f16', 'q8'];

/**
 * One layer's K or V rows on the host: f32 values, f16 bits (Uint16Array) when the dtype is 'f16',
 * q8 groups (Uint8Array, G + 4 bytes per G values) when it is 'q8'.
 */
export type KVArray = Float32Array | Uint16Array | Uint8Array;

/** A K/V storage: the dtype and, for q8, the values per scale group (KVEntry is one). */
export interface KVStorage {
  dtype: KVDtype;
  q8Group?: number;
}

/** Bytes `values` stored K/V values take (q8 in groups of `group`: values % group == 0). */
export function kvBytes(dtype: KVDtype, values: number, group: number): number {
  if (dtype === 'q8') return q8Bytes(values, group);
  return values * (dtype === 'f16' ? 2 : 4);
}

/** Elements of a host array of `dtype` that hold `values` values (f32, f16: values; q8: bytes). */
export function kvLength(dtype: KVDtype, values: number, group: number): number {
  return dtype === 'q8' ? q8Bytes(values, group) : values;
}

/** The dtype a host array holds (Uint16Array: f16 bits, Uint8Array: q8 groups). */
export function kvDtypeOf(a: KVArray): KVDtype {
  if (a instanceof Uint8Array) return 'q8';
  return a instanceof Uint16Array ? 'f16' : 'f32';
}

/** A host array of `dtype` with room for `values` values. */
export function kvAlloc(dtype: KVDtype, values: number, group: number): KVArray {
  const n = kvLength(dtype, values, group);
  if (dtype === 'q8') return new Uint8Array(n);
  return dtype === 'f16' ? new Uint16Array(n) : new Float32Array(n);
}

/** Rows `rows` of `a` ([T, width] values, any dtype, q8 in groups of `group`) gathered in order: [rows.length, width] of a's dtype. */
export function kvGatherRows(a: KVArray, width: number, rows: readonly number[], group: number): KVArray {
  const dtype = kvDtypeOf(a);
  const w = kvLength(dtype, width, group);
  const out = kvAlloc(dtype, rows.length * width, group);
  for (const [j, r] of rows.entries()) out.set(a.subarray(r * w, (r + 1) * w), j * w);
  return out;
}

/** Throws InvalidArgumentError unless `d` is a known K/V dtype. */
export function checkKVDtype(d: unknown, what = 'kvDtype'): asserts d is KVDtype {
  if (!KV_DTYPES.includes(d as KVDtype)) {
    throw new InvalidArgumentError(
      `${what} must be one of ${KV_DTYPES.join(', ')} (got ${JSON.stringify(d)})`,
    );
  }
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** IEEE half bits of x, rounded to nearest even (as WGSL's pack2x16float on Dawn); beyond ±65504 → ±Inf, NaN → NaN. */
export function f32ToF16Bits(x: number): number {
  f32[0] = x;
  const b = u32[0];
  const sign = (b >>> 16) & 0x8000;
  const exp = (b >>> 23) & 0xff;
  let mant = b & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0); // Inf / NaN
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00; // overflow
  if (e <= 0) {
    if (e < -10) return sign; // below half the smallest subnormal: ±0
    mant |= 0x800000; // subnormal: shift the implicit bit in
    const shift = 14 - e;
    let h = mant >>> shift;
    const rem = mant & ((1 << shift) - 1);
    const halfway = 1 << (shift - 1);
    if (rem > halfway || (rem === halfway && h & 1)) h++;
    return sign | h;
  }
  let h = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && h & 1)) h++; // may carry into the exponent: still correct
  return sign | h;
}

/** The value of IEEE half bits h. */
export function f16BitsToF32(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >>> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 0x1f) return mant ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

/** x rounded to the nearest half (what an f16 K/V store keeps of it). */
export function roundF16(x: number): number {
  return f16BitsToF32(f32ToF16Bits(x));
}

/** [n] f32 → [n] f16 bits. */
export function f32ArrayToF16(a: Float32Array): Uint16Array {
  const out = new Uint16Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = f32ToF16Bits(a[i]);
  return out;
}

const F16_TABLE = (() => {
  const t = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) t[h] = f16BitsToF32(h);
  return t;
})();

/** [n] f16 bits → [n] f32 (exact). */
export function f16ArrayToF32(a: Uint16Array): Float32Array {
  const out = new Float32Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = F16_TABLE[a[i]];
  return out;
}

/**
 * `a` (q8: in groups of `group`) stored as `to` (q8: in groups of `toGroup`); the same array when it
 * already is. To f16 rounds each value to a half, to q8 quantizes each group (of the values a holds);
 * to f32 is exact.
 */
export function kvConvert(a: KVArray, group: number, to: KVDtype, toGroup: number): KVArray {
  const from = kvDtypeOf(a);
  if (from === to && (to !== 'q8' || group === toGroup)) return a;
  const x = kvToF32(a, group);
  if (to === 'f16') return f32ArrayToF16(x);
  return to === 'q8' ? quantizeQ8(x, toGroup) : x;
}

/** The values of `a` (q8: in groups of `group`) as f32 (the array itself when it holds f32). */
export function kvToF32(a: KVArray, group: number): Float32Array {
  if (a instanceof Uint8Array) return dequantizeQ8(a, group);
  return a instanceof Uint16Array ? f16ArrayToF32(a) : a;
}

/**
 * The dtype a load gets: `requested`, or by default 'f16' where the head size allows it (the f16
 * kernels write two rotation pairs per word: headDim % 4 == 0) and 'f32' elsewhere. Throws
 * InvalidArgumentError for an explicit 'f16' the head size does not allow, and for 'q8' where no q8
 * group fits a head (q8GroupFor: headDim not a multiple of 4).
 */
export function resolveKVDtype(requested: KVDtype | undefined, headDim: number): KVDtype {
  if (requested !== undefined) checkKVDtype(requested);
  const fits = headDim % 4 === 0;
  if (requested === 'f16' && !fits) {
    throw new InvalidArgumentError(
      `kvDtype 'f16' needs a head size divisible by 4 (this model's is ${headDim})`,
    );
  }
  if (requested === 'q8' && q8GroupFor(headDim) === undefined) {
    throw new InvalidArgumentError(
      `kvDtype 'q8' needs a head size divisible by 4, so its scale groups never span two heads (this model's is ${headDim})`,
    );
  }
  return requested ?? (fits ? 'f16' : 'f32');
}
