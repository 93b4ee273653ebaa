import type { WeightFormat } from '../../ops/weight-format.ts';

/** The checkpoint dtypes the loader accepts. */
export type DType = 'F32' | 'F16' | 'BF16';

/** 16-bit checkpoint tensors stay 16-bit on the GPU (half the bytes); F32 ones stay f32. */
export function weightFormat(dtype: DType): WeightFormat {
  return dtype === 'F16' ? 'f16' : dtype === 'BF16' ? 'bf16' : 'f32';
}

/** Bytes per element of each checkpoint dtype the loader accepts. */
export const DTYPE_BYTES: Record<DType, number> = { F32: 4, F16: 2, BF16: 2 };

export function isDType(v: unknown): v is DType {
  return v === 'F32' || v === 'F16' || v === 'BF16';
}

// Typed-array views below read the host's byte order; every WebGPU platform is little-endian, as is
// the safetensors format, so they read the file's values directly.

let f16Table: Float32Array | null = null;

/** One IEEE half (as its 16 bits) to f32, exact, including subnormals, ±inf and NaN. */
export function f16BitsToF32(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24; // zero and subnormals: frac · 2^-14 / 1024
  if (exp === 0x1f) return frac ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

/** All 65536 halves decoded once (256 KiB), so bulk decoding is one table lookup per element. */
function table(): Float32Array {
  if (!f16Table) {
    f16Table = new Float32Array(65536);
    for (let h = 0; h < 65536; h++) f16Table[h] = f16BitsToF32(h);
  }
  return f16Table;
}

/** bfloat16 bits to f32: the bits are the top half of the f32. */
export function bf16BitsToF32(b: number): number {
  const u = new Uint32Array([(b & 0xffff) << 16]);
  return new Float32Array(u.buffer)[0];
}

/**
 * Decodes little-endian raw tensor bytes of `dtype` into a new Float32Array. For F32 the result is a
 * copy (so it does not keep a larger file buffer alive).
 */
export function decodeToF32(bytes: Uint8Array, dtype: DType): Float32Array {
  const n = bytes.byteLength / DTYPE_BYTES[dtype];
  if (!Number.isInteger(n))
    throw new RangeError(`${bytes.byteLength} bytes is not a whole number of ${dtype}`);
  if (dtype === 'F32') {
    const out = new Float32Array(n);
    new Uint8Array(out.buffer).set(bytes);
    return out;
  }
  const halves = u16View(bytes);
  if (dtype === 'F16') {
    const t = table();
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = t[halves[i]];
    return out;
  }
  const bits = new Uint32Array(n);
  for (let i = 0; i < n; i++) bits[i] = halves[i] << 16;
  return new Float32Array(bits.buffer);
}

/** A Uint16Array over the bytes, copying only when they are not 2-byte aligned. */
function u16View(bytes: Uint8Array): Uint16Array {
  if (bytes.byteOffset % 2 === 0)
    return new Uint16Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 2);
  return new Uint16Array(bytes.slice().buffer);
}

const f32Scratch = new Float32Array(1);
const u32Scratch = new Uint32Array(f32Scratch.buffer);

/** f32 to IEEE half bits, round-to-nearest-even, overflow to ±inf, NaN kept NaN. */
export function f32ToF16Bits(x: number): number {
  f32Scratch[0] = x;
  return f32BitsToF16Bits(u32Scratch[0]);
}

/** f32ToF16Bits on the f32's bits (no float round trip, so bulk packing stays cheap). */
function f32BitsToF16Bits(u: number): number {
  const sign = (u >>> 16) & 0x8000;
  const exp = (u >>> 23) & 0xff;
  let mant = u & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign; // rounds to ±0
    mant |= 0x800000; // implicit leading 1
    const shift = 14 - e;
    const half = 1 << (shift - 1);
    const rest = mant & ((1 << shift) - 1);
    let h = mant >>> shift;
    if (rest > half || (rest === half && h & 1)) h++;
    return sign | h; // may carry into the smallest normal, which is still correct
  }
  let h = (e << 10) | (mant >>> 13);
  const rest = mant & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && h & 1)) h++; // may carry into the exponent (and to inf): correct
  return sign | h;
}

/** f32 to bfloat16 bits, round-to-nearest-even, NaN kept NaN. */
export function f32ToBf16Bits(x: number): number {
  f32Scratch[0] = x;
  return f32BitsToBf16Bits(u32Scratch[0]);
}

/** Encodes f32 values as little-endian bytes of `dtype` (for writing checkpoints). */
export function encodeFromF32(values: Float32Array, dtype: DType): Uint8Array {
  if (dtype === 'F32') return new Uint8Array(values.buffer, values.byteOffset, values.byteLength).slice();
  const out = new Uint16Array(values.length);
  const enc = dtype === 'F16' ? f32ToF16Bits : f32ToBf16Bits;
  for (let i = 0; i < values.length; i++) out[i] = enc(values[i]);
  return new Uint8Array(out.buffer);
}

/**
 * Packs a row-major [rows, cols] tensor decoded from a 16-bit checkpoint back into its 16-bit form,
 * two values per u32 along each row: element 2j in the low half of word j, element 2j + 1 in the high
 * half; an odd `cols` leaves the last word's high half zero. Returns [rows, ceil(cols / 2)] u32. The
 * values were decoded from `dtype`, so re-encoding (round to nearest even) gives back their exact bits.
 */
export function packHalfRows(data: Float32Array, cols: number, dtype: 'F16' | 'BF16'): Uint32Array {
  const rows = cols === 0 ? 0 : data.length / cols;
  if (!Number.isInteger(rows)) throw new RangeError(`${data.length} values are not rows of ${cols}`);
  const words = Math.ceil(cols / 2);
  const bits = new Uint32Array(data.buffer, data.byteOffset, data.length); // [rows, cols] f32 bits
  const out = new Uint32Array(rows * words); // [rows, words]
  const enc = dtype === 'F16' ? f32BitsToF16Bits : f32BitsToBf16Bits;
  for (let r = 0; r < rows; r++) {
    const src = r * cols;
    const dst = r * words;
    for (let j = 0; j < words; j++) {
      const k = src + 2 * j;
      const hi = 2 * j + 1 < cols ? enc(bits[k + 1]) : 0;
      out[dst + j] = (enc(bits[k]) | (hi << 16)) >>> 0;
    }
  }
  return out;
}

/** f32 bits to bfloat16 bits, round-to-nearest-even, NaN kept NaN (f32ToBf16Bits on bits). */
function f32BitsToBf16Bits(u: number): number {
  if ((u & 0x7f800000) === 0x7f800000 && u & 0x7fffff) return ((u >>> 16) & 0xffff) | 0x40;
  return ((u + 0x7fff + ((u >>> 16) & 1)) >>> 16) & 0xffff;
}
