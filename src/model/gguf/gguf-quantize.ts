// GGML block quantizers for the GGUF writer (kvshare convert, tests): Q8_0, Q4_0, Q4_1, Q5_0 by
// llama.cpp's reference rules (quantize_row_*_ref); Q4_K and Q6_K by a plain max-based rule (not
// llama.cpp's search, but the same block layout, so the files are valid GGUF; tests only).
import { encodeFromF32, f16BitsToF32, f32ToF16Bits } from '../weights/dtype.ts';

export const GGML_TYPE_IDS = {
  F32: 0,
  F16: 1,
  BF16: 30,
  Q8_0: 8,
  Q4_0: 2,
  Q4_1: 3,
  Q5_0: 6,
  Q4_K: 12,
  Q6_K: 14,
} as const;
export type GgmlName = keyof typeof GGML_TYPE_IDS;

/** C's roundf: halves away from zero. */
const roundf = (x: number) => Math.sign(x) * Math.round(Math.abs(x));
/** The f16 a value is stored as, and its bits. */
const half = (x: number): [number, number] => {
  const bits = f32ToF16Bits(x);
  return [f16BitsToF32(bits), bits];
};

/** Row-major values (rows whole blocks long) as GGML blocks of `type`. */
export function quantizeGgml(x: Float32Array, type: GgmlName): Uint8Array {
  if (type === 'F32' || type === 'F16' || type === 'BF16') return encodeFromF32(x, type);
  const spec = {
    Q8_0: [32, 34],
    Q4_0: [32, 18],
    Q4_1: [32, 20],
    Q5_0: [32, 22],
    Q4_K: [256, 144],
    Q6_K: [256, 210],
  }[type];
  const [elems, bytes] = spec;
  const out = new Uint8Array((x.length / elems) * bytes);
  const dv = new DataView(out.buffer);
  for (let b = 0; b < x.length / elems; b++) {
    const v = x.subarray(b * elems, (b + 1) * elems);
    const o = b * bytes;
    if (type === 'Q8_0') q8_0(v, dv, o);
    else if (type === 'Q4_0' || type === 'Q4_1') q4(v, dv, o, type === 'Q4_1');
    else if (type === 'Q5_0') q5_0(v, dv, o);
    else if (type === 'Q4_K') q4K(v, out, dv, o);
    else q6K(v, out, dv, o);
  }
  return out;
}

function q8_0(v: Float32Array, dv: DataView, o: number): void {
  let amax = 0;
  for (const x of v) amax = Math.max(amax, Math.abs(x));
  const d = amax / 127;
  const id = d ? 1 / d : 0;
  dv.setUint16(o, f32ToF16Bits(d), true);
  for (let j = 0; j < 32; j++) dv.setInt8(o + 2 + j, roundf(v[j] * id));
}

function q4(v: Float32Array, dv: DataView, o: number, withMin: boolean): void {
  let d: number;
  let min = 0;
  if (withMin) {
    let max = -Infinity;
    min = Infinity;
    for (const x of v) [min, max] = [Math.min(min, x), Math.max(max, x)];
    d = (max - min) / 15;
    dv.setUint16(o + 2, f32ToF16Bits(min), true);
  } else {
    let max = 0;
    for (const x of v) if (Math.abs(x) > Math.abs(max)) max = x;
    d = max / -8;
  }
  dv.setUint16(o, f32ToF16Bits(d), true);
  const id = d ? 1 / d : 0;
  const code = (x: number) => Math.min(15, Math.trunc(withMin ? (x - min) * id + 0.5 : x * id + 8.5));
  const qs = o + (withMin ? 4 : 2);
  for (let j = 0; j < 16; j++) dv.setUint8(qs + j, code(v[j]) | (code(v[j + 16]) << 4));
}

/** llama.cpp's quantize_row_q5_0_ref: d = max / −16, codes trunc(x / d + 16.5) ≤ 31, 5th bits in qh. */
function q5_0(v: Float32Array, dv: DataView, o: number): void {
  let max = 0;
  for (const x of v) if (Math.abs(x) > Math.abs(max)) max = x;
  const d = max / -16;
  const id = d ? 1 / d : 0;
  dv.setUint16(o, f32ToF16Bits(d), true);
  let qh = 0;
  for (let j = 0; j < 16; j++) {
    const a = Math.min(31, Math.trunc(v[j] * id + 16.5));
    const b = Math.min(31, Math.trunc(v[j + 16] * id + 16.5));
    dv.setUint8(o + 6 + j, (a & 15) | ((b & 15) << 4));
    qh |= ((a >> 4) << j) | ((b >> 4) << (j + 16));
  }
  dv.setUint32(o + 2, qh >>> 0, true);
}

/** Q4_K: per 32-value sub-block scale (max − min) / 15 and min −min(0, ·), both as 6 bits of d / dmin. */
function q4K(v: Float32Array, out: Uint8Array, dv: DataView, o: number): void {
  const scales: number[] = [];
  const mins: number[] = [];
  for (let s = 0; s < 8; s++) {
    const sub = v.subarray(32 * s, 32 * s + 32);
    const lo = Math.min(0, ...sub);
    const hi = Math.max(...sub);
    scales.push((hi - lo) / 15);
    mins.push(-lo);
  }
  const [d, dBits] = half(Math.max(...scales) / 63);
  const [dmin, mBits] = half(Math.max(...mins) / 63);
  dv.setUint16(o, dBits, true);
  dv.setUint16(o + 2, mBits, true);
  const sc = scales.map((s) => (d ? Math.min(63, Math.round(s / d)) : 0));
  const mq = mins.map((m) => (dmin ? Math.min(63, Math.round(m / dmin)) : 0));
  const sb = o + 4;
  for (let j = 0; j < 8; j++) {
    if (j < 4) {
      out[sb + j] = sc[j];
      out[sb + j + 4] = mq[j];
    } else {
      out[sb + j + 4] = (sc[j] & 15) | ((mq[j] & 15) << 4);
      out[sb + j - 4] |= (sc[j] >> 4) << 6;
      out[sb + j] |= (mq[j] >> 4) << 6;
    }
  }
  for (let s = 0; s < 8; s++) {
    const dd = Math.fround(d * sc[s]);
    const m = Math.fround(dmin * mq[s]);
    const run = o + 16 + (s >> 1) * 32;
    for (let l = 0; l < 32; l++) {
      const q = dd ? Math.max(0, Math.min(15, Math.round((v[32 * s + l] + m) / dd))) : 0;
      out[run + l] |= q << ((s & 1) * 4);
    }
  }
}

/** Q6_K: per 16-value scale max|x| / 31 as an int8 multiple of d = max scale / 127; codes q + 32. */
function q6K(v: Float32Array, out: Uint8Array, dv: DataView, o: number): void {
  const scales: number[] = [];
  for (let g = 0; g < 16; g++) {
    let amax = 0;
    for (let i = 16 * g; i < 16 * g + 16; i++) amax = Math.max(amax, Math.abs(v[i]));
    scales.push(amax / 31);
  }
  const [d, dBits] = half(Math.max(...scales) / 127);
  dv.setUint16(o + 208, dBits, true);
  const sc = scales.map((s) => (d ? Math.min(127, Math.round(s / d)) : 0));
  for (let g = 0; g < 16; g++) dv.setInt8(o + 192 + g, sc[g]);
  const q = new Uint8Array(256);
  for (let i = 0; i < 256; i++) {
    const step = Math.fround(d * sc[i >> 4]);
    q[i] = (step ? Math.max(-32, Math.min(31, Math.round(v[i] / step))) : 0) + 32;
  }
  for (let n = 0; n < 2; n++) {
    for (let l = 0; l < 32; l++) {
      const [q1, q2, q3, q4] = [0, 32, 64, 96].map((k) => q[128 * n + l + k]);
      out[o + 64 * n + l] = (q1 & 15) | ((q3 & 15) << 4);
      out[o + 64 * n + l + 32] = (q2 & 15) | ((q4 & 15) << 4);
      out[o + 128 + 32 * n + l] = (q1 >> 4) | ((q2 >> 4) << 2) | ((q3 >> 4) << 4) | ((q4 >> 4) << 6);
    }
  }
}
