import {
  QUANT_FORMATS,
  QUANT_GROUP,
  type QuantFormat,
  type QuantSpec,
  quantLayout,
} from '../../ops/weight-format.ts';
import { f16BitsToF32, f32ToF16Bits } from './dtype.ts';

/** Code of value 0 for the format's codes (the code padding groups are filled with). */
function zeroPoint(s: QuantSpec): number {
  return s.bits === 4 && !s.hasMin ? 8 : 0;
}

/** The value a scale or min is stored as (f16 round to nearest even, or f32). */
function stored(v: number, s: QuantSpec): number {
  return s.scale32 ? Math.fround(v) : f16BitsToF32(f32ToF16Bits(v));
}

/**
 * Scale and min of the group data[i0, i1): as llama.cpp's Q8_0 and Q4_1 do; symmetric 4-bit scales
 * by a small least-squares search (bestSymmetric4). A non-finite value gives a non-finite scale.
 */
function groupParams(data: Float32Array, i0: number, i1: number, s: QuantSpec): { d: number; m: number } {
  if (s.hasMin) {
    let lo = Infinity;
    let hi = -Infinity;
    for (let i = i0; i < i1; i++) {
      const x = data[i];
      if (x < lo) lo = x;
      if (x > hi) hi = x;
      if (Number.isNaN(x)) return { d: x, m: x };
    }
    return { d: stored((hi - lo) / ((1 << s.bits) - 1), s), m: stored(lo, s) };
  }
  let big = 0; // the value of largest magnitude, with its sign
  for (let i = i0; i < i1; i++) {
    const x = data[i];
    if (!(Math.abs(x) <= Math.abs(big))) big = x; // NaN ends up in big
  }
  if (s.bits === 8) return { d: stored(Math.abs(big) / 127, s), m: 0 };
  return { d: stored(bestSymmetric4(data, i0, i1, big), s), m: 0 };
}

/** Divisors of the largest-magnitude value tried for a symmetric 4-bit scale (codes -8..7). */
const Q4_TRIES = [-8, -7.75, -7.5, -7.25, -7, 7, 7.25, 7.5];

/**
 * A symmetric 4-bit scale by least squares: for each trial scale big / t the codes round(v / scale)
 * (clamped to -8..7) get their best scale sum(v q) / sum(q q); the one with the smallest squared
 * error wins (llama.cpp's make_qx_quants idea; big / -8 alone is its plain Q4_0 rule).
 */
function bestSymmetric4(data: Float32Array, i0: number, i1: number, big: number): number {
  if (big === 0 || !Number.isFinite(big)) return big === 0 ? 0 : big;
  let best = big / -8;
  let bestGain = -1; // squared error = sum(v^2) - (sum(v q))^2 / sum(q^2): maximise the gain
  for (const t of Q4_TRIES) {
    const inv = t / big;
    let vq = 0;
    let qq = 0;
    for (let i = i0; i < i1; i++) {
      const x = data[i];
      let q = Math.round(x * inv);
      q = Math.min(7, Math.max(-8, q));
      vq += x * q;
      qq += q * q;
    }
    if (qq > 0 && (vq * vq) / qq > bestGain) {
      bestGain = (vq * vq) / qq;
      best = vq / qq;
    }
  }
  return best;
}

/**
 * Quantizes a row-major [rows, cols] f32 tensor into `format` (layout: see WeightFormat): groups of
 * 32 values along each row, codes rounded to nearest with the stored (rounded) scale and min.
 * Throws RangeError on a non-finite value or a scale that overflows its storage.
 */
export function quantizeRows(data: Float32Array, cols: number, format: QuantFormat): Uint32Array {
  const s = QUANT_FORMATS[format];
  const rows = cols === 0 ? 0 : data.length / cols;
  if (!Number.isInteger(rows)) throw new RangeError(`${data.length} values are not rows of ${cols}`);
  const L = quantLayout(rows, cols, format);
  const out = new Uint32Array(L.words); // codes [rows, G, bits] | scales [rows * G] | mins [rows * G]
  const params = s.scale32 ? new Float32Array(out.buffer) : null;
  const setParam = (base: number, i: number, v: number) => {
    if (params) params[base + i] = v;
    else out[base + (i >> 1)] |= f32ToF16Bits(v) << ((i & 1) * 16);
  };
  const zero = zeroPoint(s);
  const maxCode = s.bits === 8 ? 127 : 15;
  const minCode = s.bits === 8 ? -127 : 0;
  const perWord = 32 / s.bits;
  const mask = (1 << s.bits) - 1;
  const shift = s.bits === 8 ? 2 : 3; // log2(perWord)
  for (let r = 0; r < rows; r++) {
    for (let g = 0; g < L.groups; g++) {
      const i0 = r * cols + g * QUANT_GROUP;
      const len = Math.min(QUANT_GROUP, cols - g * QUANT_GROUP);
      const { d, m } = groupParams(data, i0, i0 + len, s);
      if (!Number.isFinite(d) || !Number.isFinite(m)) {
        throw new RangeError(`row ${r}, group ${g}: a value or scale is not finite in ${format}`);
      }
      const gi = r * L.groups + g;
      setParam(L.scaleBase, gi, d);
      if (s.hasMin) setParam(L.minBase, gi, m);
      const inv = d === 0 ? 0 : 1 / d;
      const base = gi * L.codeWords;
      for (let e = 0; e < QUANT_GROUP; e++) {
        let code = zero;
        if (e < len) {
          code = Math.round((data[i0 + e] - m) * inv) + zero;
          code = Math.min(maxCode, Math.max(minCode, code));
        }
        out[base + (e >> shift)] |= (code & mask) << ((e & (perWord - 1)) * s.bits);
      }
    }
  }
  return out;
}

/** Reference dequantization of quantizeRows' words: [rows, cols] f32, value = scale * (code - zero) + min. */
export function dequantizeRows(
  words: Uint32Array,
  rows: number,
  cols: number,
  format: QuantFormat,
): Float32Array {
  const s = QUANT_FORMATS[format];
  const L = quantLayout(rows, cols, format);
  const f32 = new Float32Array(words.buffer, words.byteOffset, words.length);
  const param = (base: number, i: number) =>
    s.scale32 ? f32[base + i] : f16BitsToF32((words[base + (i >> 1)] >>> ((i & 1) * 16)) & 0xffff);
  const zero = zeroPoint(s);
  const perWord = 32 / s.bits;
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    for (let k = 0; k < cols; k++) {
      const gi = r * L.groups + Math.floor(k / QUANT_GROUP);
      const e = k % QUANT_GROUP;
      const word = words[gi * L.codeWords + Math.floor(e / perWord)];
      const shift = (e % perWord) * s.bits;
      const code = s.bits === 8 ? (word << (24 - shift)) >> 24 : (word >>> shift) & 15;
      const m = s.hasMin ? param(L.minBase, gi) : 0;
      out[r * cols + k] = Math.fround(Math.fround(param(L.scaleBase, gi) * (code - zero)) + m);
    }
  }
  return out;
}

/**
 * Rows [r0, r0 + n) of a quantized [rows, cols] weight (quantizeRows' layout) as a weight of their
 * own in the same layout: the codes are one contiguous run; f16 scales and mins are re-paired.
 */
export function sliceQuantRows(
  words: Uint32Array,
  rows: number,
  cols: number,
  format: QuantFormat,
  r0: number,
  n: number,
): Uint32Array {
  const s = QUANT_FORMATS[format];
  const src = quantLayout(rows, cols, format);
  const dst = quantLayout(n, cols, format);
  const out = new Uint32Array(dst.words);
  const g0 = r0 * src.groups;
  const count = n * src.groups;
  out.set(words.subarray(g0 * src.codeWords, (g0 + count) * src.codeWords));
  const copyParams = (from: number, to: number) => {
    if (s.scale32) {
      out.set(words.subarray(from + g0, from + g0 + count), to);
      return;
    }
    for (let i = 0; i < count; i++) {
      const j = g0 + i;
      const half = (words[from + (j >> 1)] >>> ((j & 1) * 16)) & 0xffff;
      out[to + (i >> 1)] |= half << ((i & 1) * 16);
    }
  };
  copyParams(src.scaleBase, dst.scaleBase);
  if (s.hasMin) copyParams(src.minBase, dst.minBase);
  return out;
}
