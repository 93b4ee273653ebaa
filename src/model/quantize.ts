import {
  QUANT_FORMATS,
  QUANT_GROUP,
  type QuantFormat,
  type QuantSpec,
  quantLayout,
} from '../ops/weight-format.ts';
import { f16BitsToF32, f32ToF16Bits } from './dtype.ts';

/** Code of value 0 for the format's codes (the code padding groups are filled with). */
function zeroPoint(s: QuantSpec): number {
  return s.bits === 4 && !s.hasMin ? 8 : 0;
}

/** The value a scale or min is stored as (f16 round to nearest even, or f32). */
function stored(v: number, s: QuantSpec): number {
  return s.scale32 ? Math.fround(v) : f16BitsToF32(f32ToF16Bits(v));
}

/** Scale and min of one group (values v[0..len)), chosen as llama.cpp's Q8_0 / Q4_0 / Q4_1 do. */
function groupParams(v: Float32Array, s: QuantSpec): { d: number; m: number } {
  if (s.hasMin) {
    let lo = Infinity;
    let hi = -Infinity;
    for (const x of v) {
      lo = Math.min(lo, x);
      hi = Math.max(hi, x);
    }
    return { d: stored((hi - lo) / ((1 << s.bits) - 1), s), m: stored(lo, s) };
  }
  let big = 0; // the value of largest magnitude, with its sign
  for (const x of v) {
    if (!Number.isFinite(x)) return { d: x, m: 0 };
    if (Math.abs(x) > Math.abs(big)) big = x;
  }
  return { d: stored(s.bits === 8 ? Math.abs(big) / 127 : big / -8, s), m: 0 };
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
  for (let r = 0; r < rows; r++) {
    for (let g = 0; g < L.groups; g++) {
      const k0 = g * QUANT_GROUP;
      const v = data.subarray(r * cols + k0, r * cols + Math.min(k0 + QUANT_GROUP, cols));
      const { d, m } = groupParams(v, s);
      if (!Number.isFinite(d) || !Number.isFinite(m)) {
        throw new RangeError(`row ${r}, group ${g}: a value or scale is not finite in ${format}`);
      }
      const gi = r * L.groups + g;
      setParam(L.scaleBase, gi, d);
      if (s.hasMin) setParam(L.minBase, gi, m);
      const inv = d === 0 ? 0 : 1 / d;
      const base = gi * L.codeWords;
      for (let e = 0; e < QUANT_GROUP; e++) {
        const code =
          e < v.length ? Math.min(maxCode, Math.max(minCode, Math.round((v[e] - m) * inv) + zero)) : zero;
        out[base + Math.floor(e / perWord)] |= (code & mask) << ((e % perWord) * s.bits);
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
