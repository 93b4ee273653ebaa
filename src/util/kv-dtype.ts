/**
 * How K/V values are stored, on the GPU (live cache, hot tier) and on the host (entries, IndexedDB,
 * packs): 'f32' as float32, 'f16' as IEEE half bits (two per u32 word on the GPU, element 2j in the
 * low half: the layout of WGSL's pack2x16float and of a little-endian Uint16Array). Arithmetic is f32
 * everywhere; only storage narrows.
 */
import type { KVDtype } from '../api/model.ts';
import { InvalidArgumentError } from '../errors.ts';

export type { KVDtype } from '../api/model.ts';
export const KV_DTYPES: readonly KVDtype[] = ['f32', 'f16'];

/** One layer's K or V rows on the host: f32 values, or f16 bits (Uint16Array) when the dtype is 'f16'. */
export type KVArray = Float32Array | Uint16Array;

/** Bytes one stored K/V value takes. */
export function kvBytesPerValue(dtype: KVDtype): number {
  return dtype === 'f16' ? 2 : 4;
}

/** The dtype a host array holds (Uint16Array: f16 bits). */
export function kvDtypeOf(a: KVArray): KVDtype {
  return a instanceof Uint16Array ? 'f16' : 'f32';
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

/** `a` stored as `to` (the same array when it already is). f32 → f16 rounds; f16 → f32 is exact. */
export function kvConvert(a: KVArray, to: KVDtype): KVArray {
  if (kvDtypeOf(a) === to) return a;
  return to === 'f16' ? f32ArrayToF16(a as Float32Array) : f16ArrayToF32(a as Uint16Array);
}

/** The values of `a` as f32 (the array itself when it holds f32). */
export function kvToF32(a: KVArray): Float32Array {
  return a instanceof Uint16Array ? f16ArrayToF32(a) : a;
}

/** Element i of `a` as f32. */
export function kvValue(a: KVArray, i: number): number {
  return a instanceof Uint16Array ? F16_TABLE[a[i]] : a[i];
}

/**
 * The dtype a load gets: `requested`, or by default 'f16' where the head size allows it (the f16
 * kernels write two rotation pairs per word: headDim % 4 == 0) and 'f32' elsewhere. Throws
 * InvalidArgumentError for an explicit 'f16' the head size does not allow.
 */
export function resolveKVDtype(requested: KVDtype | undefined, headDim: number): KVDtype {
  if (requested !== undefined) checkKVDtype(requested);
  const fits = headDim % 4 === 0;
  if (requested === 'f16' && !fits) {
    throw new InvalidArgumentError(
      `kvDtype 'f16' needs a head size divisible by 4 (this model's is ${headDim})`,
    );
  }
  return requested ?? (fits ? 'f16' : 'f32');
}
