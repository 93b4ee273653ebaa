import { ModelFormatError } from '../../errors.ts';
import { type QuantFormat, quantLayout, type WeightFormat } from '../../ops/weight-format.ts';
import { bf16BitsToF32, f16BitsToF32 } from '../weights/dtype.ts';

/**
 * The GGML tensor types this engine reads, by their GGUF type id, with their block sizes:
 * `elems` values are stored in `bytes` bytes (1 and the element size for the float types).
 *
 *   Q8_0 [34 B / 32]:  f16 d, i8 q[32];                         x = d·q
 *   Q4_0 [18 B / 32]:  f16 d, u8 qs[16] (x[j] low nibble of qs[j], x[j+16] high); x = d·(q − 8)
 *   Q4_1 [20 B / 32]:  f16 d, f16 m, u8 qs[16] (as Q4_0);       x = d·q + m
 *   Q5_0 [22 B / 32]:  f16 d, u32 qh (bit j: 5th bit of x[j]), u8 qs[16] (as Q4_0); x = d·(q − 16)
 *   Q4_K [144 B / 256]: f16 d, f16 dmin, u8 scales[12] (8 packed 6-bit scales and mins),
 *                      u8 qs[128]: 32-byte run j holds sub-block 2j (low nibbles) and 2j+1 (high);
 *                      x = (d·sc)·q − dmin·m
 *   Q6_K [210 B / 256]: u8 ql[128], u8 qh[64], i8 scales[16] (one per 16 values), f16 d;
 *                      x = (d·sc)·(q − 32), q 6-bit
 */
export const GGML_TYPES = {
  0: { name: 'F32', elems: 1, bytes: 4 },
  1: { name: 'F16', elems: 1, bytes: 2 },
  30: { name: 'BF16', elems: 1, bytes: 2 },
  8: { name: 'Q8_0', elems: 32, bytes: 34 },
  2: { name: 'Q4_0', elems: 32, bytes: 18 },
  3: { name: 'Q4_1', elems: 32, bytes: 20 },
  6: { name: 'Q5_0', elems: 32, bytes: 22 },
  12: { name: 'Q4_K', elems: 256, bytes: 144 },
  14: { name: 'Q6_K', elems: 256, bytes: 210 },
} as const;

export type GgmlTypeId = keyof typeof GGML_TYPES;
export type GgmlTypeName = (typeof GGML_TYPES)[GgmlTypeId]['name'];

export function isGgmlType(id: number): id is GgmlTypeId {
  return Object.hasOwn(GGML_TYPES, id);
}

/**
 * What a 2-D GGML tensor becomes on the GPU: the float types keep their width; Q8_0 / Q4_0 / Q4_1 are
 * re-packed into q8 / q4 / q4m (same values, our region layout); Q5_0 into q8 (its codes q − 16 fit
 * int8, same f16 scale: exact, at 8.5 bits instead of 5.5); Q4_K into q4m_f32 (d·sc and dmin·m
 * are exact in f32); Q6_K keeps its blocks in a kernel format of its own, q6k (see WeightFormat).
 */
export const GGML_GPU_FORMAT: Record<GgmlTypeName, WeightFormat> = {
  F32: 'f32',
  F16: 'f16',
  BF16: 'bf16',
  Q8_0: 'q8',
  Q4_0: 'q4',
  Q4_1: 'q4m',
  Q5_0: 'q8',
  Q4_K: 'q4m_f32',
  Q6_K: 'q6k',
};

/** Bytes of `n` values of a GGML type (n a whole number of blocks). */
export function ggmlBytes(id: GgmlTypeId, n: number): number {
  const t = GGML_TYPES[id];
  return (n / t.elems) * t.bytes;
}

const f32 = (x: number) => Math.fround(x);

/** An f16 scale whose exponent is all ones (±Inf or NaN) poisons its whole block. */
function checkHalf(name: string, bits: number, block: number): void {
  if ((bits & 0x7c00) === 0x7c00) {
    throw new ModelFormatError(
      `Tensor ${name} has a non-finite scale (${f16BitsToF32(bits)}) in block ${block}.`,
    );
  }
}

/** The 5-bit code of value e (0..31) of the Q5_0 block at byte o: nibble as Q4_0, 5th bit from qh. */
function q5(raw: Uint8Array, o: number, e: number): number {
  const qh = raw[o + 2] | (raw[o + 3] << 8) | (raw[o + 4] << 16) | (raw[o + 5] << 24);
  const nib = e < 16 ? raw[o + 6 + e] & 15 : raw[o + 6 + e - 16] >> 4;
  return nib | (((qh >>> e) & 1) << 4);
}

/** The 6-bit scale and min of Q4_K sub-block j (llama.cpp's get_scale_min_k4). */
function scaleMinK4(s: Uint8Array, o: number, j: number): [number, number] {
  if (j < 4) return [s[o + j] & 63, s[o + j + 4] & 63];
  return [(s[o + j + 4] & 0xf) | ((s[o + j - 4] >> 6) << 4), (s[o + j + 4] >> 4) | ((s[o + j] >> 6) << 4)];
}

/**
 * Re-packs the raw blocks of a Q8_0 / Q4_0 / Q4_1 / Q4_K tensor [rows, cols] (row-major, GGUF order)
 * into our quantized layout (see WeightFormat) of GGML_GPU_FORMAT: the same values, bit for bit.
 * Throws ModelFormatError on a non-finite f16 scale or min.
 */
export function repackGgml(
  name: string,
  raw: Uint8Array,
  id: GgmlTypeId,
  rows: number,
  cols: number,
): Uint32Array {
  const type = GGML_TYPES[id];
  const format = GGML_GPU_FORMAT[type.name] as QuantFormat; // Q6_K: see repackQ6K
  const L = quantLayout(rows, cols, format);
  const out = new Uint32Array(L.words); // codes [rows, G, bits] | scales [rows * G] | mins [rows * G]
  const out8 = new Uint8Array(out.buffer);
  const out16 = new Uint16Array(out.buffer);
  const outF = new Float32Array(out.buffer);
  const dv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const codeBytes = L.codeWords * 4;
  const blocks = (rows * cols) / type.elems;
  for (let b = 0; b < blocks; b++) {
    const o = b * type.bytes;
    const d = dv.getUint16(o, true);
    checkHalf(name, d, b);
    if (type.name === 'Q4_K') {
      const dmin = dv.getUint16(o + 2, true);
      checkHalf(name, dmin, b);
      const [df, mf] = [f16BitsToF32(d), f16BitsToF32(dmin)];
      for (let s = 0; s < 8; s++) {
        const gi = b * 8 + s; // groups of 32 run along the row, and blocks never straddle rows
        const [sc, m] = scaleMinK4(raw, o + 4, s);
        outF[L.scaleBase + gi] = f32(df * sc);
        outF[L.minBase + gi] = -f32(mf * m);
        const q = o + 16 + (s >> 1) * 32;
        const shift = (s & 1) * 4;
        for (let k = 0; k < 16; k++) {
          const lo = (raw[q + 2 * k] >> shift) & 15;
          const hi = (raw[q + 2 * k + 1] >> shift) & 15;
          out8[gi * codeBytes + k] = lo | (hi << 4);
        }
      }
      continue;
    }
    out16[L.scaleBase * 2 + b] = d;
    if (type.name === 'Q8_0') {
      out8.set(raw.subarray(o + 2, o + 34), b * codeBytes);
      continue;
    }
    if (type.name === 'Q5_0') {
      for (let e = 0; e < 32; e++) out8[b * codeBytes + e] = (q5(raw, o, e) - 16) & 255;
      continue;
    }
    const qs = o + (type.name === 'Q4_1' ? 4 : 2);
    if (type.name === 'Q4_1') {
      const m = dv.getUint16(o + 2, true);
      checkHalf(name, m, b);
      out16[L.minBase * 2 + b] = m;
    }
    // GGML: value j in the low nibble of qs[j], value j + 16 in its high nibble; ours: value 2k low, 2k+1 high.
    const nib = (e: number) => (e < 16 ? raw[qs + e] & 15 : raw[qs + e - 16] >> 4);
    for (let k = 0; k < 16; k++) out8[b * codeBytes + k] = nib(2 * k) | (nib(2 * k + 1) << 4);
  }
  return out;
}

/**
 * Dequantizes `n` values of any supported GGML type to f32 exactly as llama.cpp does (f32 arithmetic,
 * same order), e.g. for 1-D tensors, the f32 reference path and Q6_K.
 */
export function dequantizeGgml(raw: Uint8Array, id: GgmlTypeId, n: number): Float32Array {
  const type = GGML_TYPES[id];
  const out = new Float32Array(n);
  const dv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const half = (o: number) => f16BitsToF32(dv.getUint16(o, true));
  if (type.name === 'F32') {
    for (let i = 0; i < n; i++) out[i] = dv.getFloat32(4 * i, true);
    return out;
  }
  if (type.name === 'F16' || type.name === 'BF16') {
    const dec = type.name === 'F16' ? f16BitsToF32 : bf16BitsToF32;
    for (let i = 0; i < n; i++) out[i] = dec(dv.getUint16(2 * i, true));
    return out;
  }
  for (let b = 0; b < n / type.elems; b++) {
    const o = b * type.bytes;
    const y = b * type.elems;
    if (type.name === 'Q8_0') {
      const d = half(o);
      for (let j = 0; j < 32; j++) out[y + j] = f32(d * dv.getInt8(o + 2 + j));
    } else if (type.name === 'Q5_0') {
      const d = half(o);
      for (let j = 0; j < 32; j++) out[y + j] = f32(d * (q5(raw, o, j) - 16));
    } else if (type.name === 'Q4_0' || type.name === 'Q4_1') {
      const d = half(o);
      const m = type.name === 'Q4_1' ? half(o + 2) : 0;
      const qs = o + (type.name === 'Q4_1' ? 4 : 2);
      const z = type.name === 'Q4_0' ? 8 : 0;
      for (let j = 0; j < 16; j++) {
        out[y + j] = f32(f32(d * ((raw[qs + j] & 15) - z)) + m);
        out[y + j + 16] = f32(f32(d * ((raw[qs + j] >> 4) - z)) + m);
      }
    } else if (type.name === 'Q4_K') {
      const [d, dmin] = [half(o), half(o + 2)];
      for (let s = 0; s < 8; s++) {
        const [sc, m] = scaleMinK4(raw, o + 4, s);
        const [d1, m1] = [f32(d * sc), f32(dmin * m)];
        const q = o + 16 + (s >> 1) * 32;
        for (let l = 0; l < 32; l++)
          out[y + 32 * s + l] = f32(f32(d1 * ((raw[q + l] >> ((s & 1) * 4)) & 15)) - m1);
      }
    } else {
      dequantQ6K(dv, raw, o, out, y);
    }
  }
  return out;
}

/** One Q6_K block (see GGML_TYPES) into out[y, y + 256): llama.cpp's dequantize_row_q6_K. */
function dequantQ6K(dv: DataView, raw: Uint8Array, o: number, out: Float32Array, y: number): void {
  const d = f16BitsToF32(dv.getUint16(o + 208, true));
  for (let n = 0; n < 2; n++) {
    const ql = o + 64 * n;
    const qh = o + 128 + 32 * n;
    const sc = o + 192 + 8 * n;
    const base = y + 128 * n;
    for (let l = 0; l < 32; l++) {
      const is = l >> 4;
      const h = raw[qh + l];
      const q1 = ((raw[ql + l] & 15) | ((h & 3) << 4)) - 32;
      const q2 = ((raw[ql + l + 32] & 15) | (((h >> 2) & 3) << 4)) - 32;
      const q3 = ((raw[ql + l] >> 4) | (((h >> 4) & 3) << 4)) - 32;
      const q4 = ((raw[ql + l + 32] >> 4) | (((h >> 6) & 3) << 4)) - 32;
      out[base + l] = f32(f32(d * dv.getInt8(sc + is)) * q1);
      out[base + l + 32] = f32(f32(d * dv.getInt8(sc + is + 2)) * q2);
      out[base + l + 64] = f32(f32(d * dv.getInt8(sc + is + 4)) * q3);
      out[base + l + 96] = f32(f32(d * dv.getInt8(sc + is + 6)) * q4);
    }
  }
}
