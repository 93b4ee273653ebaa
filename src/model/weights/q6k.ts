import { ModelFormatError } from '../../errors.ts';
import { Q6K_BLOCK, q6kLayout } from '../../ops/weight-format.ts';
import { f16BitsToF32 } from './dtype.ts';

/** Bytes of one GGUF Q6_K block: ql[128], qh[64], int8 scales[16], f16 d. */
const Q6K_BYTES = 210;

/**
 * GGUF Q6_K blocks of a [rows, cols] tensor (row-major) in the q6k GPU layout (see WeightFormat):
 * the same bytes, split into word-aligned regions, with d widened to f32 (exact).
 * Throws ModelFormatError on a non-finite d.
 */
export function repackQ6K(name: string, raw: Uint8Array, rows: number, cols: number): Uint32Array {
  const L = q6kLayout(rows, cols);
  const nb = rows * L.blocks;
  const out = new Uint32Array(L.words); // ql [nb, 32] | qh [nb, 16] | scales [nb, 4] | d [nb] f32
  const out8 = new Uint8Array(out.buffer);
  const d = new Float32Array(out.buffer, L.dBase * 4, nb);
  const dv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  for (let b = 0; b < nb; b++) {
    const o = b * Q6K_BYTES;
    out8.set(raw.subarray(o, o + 128), b * 128);
    out8.set(raw.subarray(o + 128, o + 192), L.qhBase * 4 + b * 64);
    out8.set(raw.subarray(o + 192, o + 208), L.scaleBase * 4 + b * 16);
    d[b] = f16BitsToF32(dv.getUint16(o + 208, true));
    if (!Number.isFinite(d[b])) {
      throw new ModelFormatError(`Tensor ${name} has a non-finite scale (${d[b]}) in block ${b}.`);
    }
  }
  return out;
}

/** Reference dequantization of the q6k layout: [rows, cols] f32, value = fround(d · scale) · (q − 32). */
export function dequantizeQ6k(words: Uint32Array, rows: number, cols: number): Float32Array {
  const L = q6kLayout(rows, cols);
  const b8 = new Uint8Array(words.buffer, words.byteOffset, words.byteLength);
  const i8 = new Int8Array(words.buffer, words.byteOffset, words.byteLength);
  const d = new Float32Array(words.buffer, words.byteOffset + L.dBase * 4, rows * L.blocks);
  const out = new Float32Array(rows * cols);
  for (let b = 0; b < rows * L.blocks; b++) {
    for (let e = 0; e < Q6K_BLOCK; e++) {
      const [n, k, l] = [e >> 7, (e >> 5) & 3, e & 31];
      const lo = (b8[b * 128 + 64 * n + 32 * (k & 1) + l] >> (4 * (k >> 1))) & 15;
      const hi = (b8[L.qhBase * 4 + b * 64 + 32 * n + l] >> (2 * k)) & 3;
      const scale = Math.fround(d[b] * i8[L.scaleBase * 4 + b * 16 + (e >> 4)]);
      out[b * Q6K_BLOCK + e] = Math.fround(scale * ((lo | (hi << 4)) - 32));
    }
  }
  return out;
}

/** Rows [r0, r0 + n) of a q6k [rows, cols] weight as a weight of their own (each region sliced). */
export function sliceQ6kRows(
  words: Uint32Array,
  rows: number,
  cols: number,
  r0: number,
  n: number,
): Uint32Array {
  const src = q6kLayout(rows, cols);
  const dst = q6kLayout(n, cols);
  const out = new Uint32Array(dst.words);
  const [b0, nb] = [r0 * src.blocks, n * src.blocks];
  const copy = (from: number, to: number, per: number) =>
    out.set(words.subarray(from + b0 * per, from + (b0 + nb) * per), to);
  copy(0, 0, 32);
  copy(src.qhBase, dst.qhBase, 16);
  copy(src.scaleBase, dst.scaleBase, 4);
  copy(src.dBase, dst.dBase, 1);
  return out;
}
