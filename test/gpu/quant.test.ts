// Kernels reading group-quantized weights (q8, q4 with and without per-group minimum, f16 and f32
// scales): GEMV, GEMM with the fused epilogues, and the embedding gather, against the TypeScript
// references run on the dequantized weights; and the host quantizer's round trip.
import { beforeAll, describe, expect, it } from 'vitest';
import { dequantizeRows, quantizeRows } from '../../src/model/weights/quantize.ts';
import { gatherRowsOps } from '../../src/ops/embed.ts';
import { matmulOps } from '../../src/ops/matmul.ts';
import {
  QUANT_FORMATS,
  type QuantFormat,
  quantLayout,
  type WeightPart,
} from '../../src/ops/weight-format.ts';
import { type KernelHarness, kernelHarness, randn, toleranceRatio } from '../helpers/gpu.ts';
import { checkMatmulEpilogues } from '../helpers/matmul-epilogues.ts';
import * as ref from '../reference/ops.ts';

// The references read the exact dequantized values; the kernels factor the scale out of each group's
// dot product (scale * (dot(x, code) - zero * sum(x)) + min * sum(x)), so allow f32 rounding of those.
const ATOL = 1e-4;
const RTOL = 1e-3;
const FORMATS = Object.keys(QUANT_FORMATS) as QuantFormat[];

let h: KernelHarness;
beforeAll(async () => {
  h = await kernelHarness();
});

/** W [outDim, K] quantized as `nParts` row parts, and W's dequantized values (the reference's W). */
function parts(w: Float32Array, K: number, nParts: number, format: QuantFormat) {
  const outDim = w.length / K;
  const per = Math.ceil(outDim / nParts);
  const out: WeightPart[] = [];
  const deq = new Float32Array(w.length);
  for (let r0 = 0; r0 < outDim; r0 += per) {
    const rows = Math.min(per, outDim - r0);
    const words = quantizeRows(w.subarray(r0 * K, (r0 + rows) * K), K, format);
    deq.set(dequantizeRows(words, rows, K, format), r0 * K);
    out.push({ buffer: h.u32(words), rowStart: r0, rows, format });
  }
  return { parts: out, deq };
}

describe('host quantizer', () => {
  it.each(FORMATS)('%s: layout size, error bound, zero rows', (format) => {
    const s = QUANT_FORMATS[format];
    const K = 45; // one full group and a padded one
    const w = randn(3 * K, 3, 0.5);
    w.fill(0, 2 * K); // an all-zero row: scale 0, values exactly 0
    const words = quantizeRows(w, K, format);
    expect(words.length).toBe(quantLayout(3, K, format).words);
    const deq = dequantizeRows(words, 3, K, format);
    // One code step of values in [-0.5, 0.5) (symmetric 4-bit clips one end of the range by a step).
    const step = s.bits === 8 ? 0.5 / 127 : s.hasMin ? 1 / 15 : 0.5 / 8;
    for (let i = 0; i < 2 * K; i++) expect(Math.abs(deq[i] - w[i])).toBeLessThanOrEqual(step);
    expect(Array.from(deq.subarray(2 * K))).toEqual(new Array(K).fill(0));
  });

  it('q8 and q4 keep the value of largest magnitude (nearly) exact, with its sign', () => {
    const w = new Float32Array(32).fill(0.01);
    w[7] = -0.75;
    for (const f of ['q8', 'q4', 'q4_f32'] as const) {
      expect(dequantizeRows(quantizeRows(w, 32, f), 1, 32, f)[7]).toBeCloseTo(-0.75, 3);
    }
  });

  it('refuses non-finite values', () => {
    expect(() => quantizeRows(new Float32Array([1, Number.NaN]), 2, 'q4')).toThrow(RangeError);
  });
});

// Every case for the formats quantize-on-load makes (q8, q4); the shape classes for the others.
const CASES: [number, number, number, boolean, number][] = [
  [1, 64, 40, false, 1], // GEMV, one row; 40 outputs: a partial 32-output workgroup
  [3, 64, 19, true, 1], // GEMV, 3 rows sharing each code load (ROWS = 4 workgroup, one row idle)
  [4, 576, 1001, false, 3], // lm-head-like GEMV over three parts
  [1, 37, 19, true, 1], // odd K: a padded last group
  [2, 38, 33, false, 2], // split weight, odd part sizes
  [5, 37, 33, false, 3], // GEMM, odd K, split
  [37, 50, 70, true, 1], // GEMM, K not a multiple of the 16-wide K tile
  [70, 96, 130, false, 3], // GEMM, several 32x32 tiles, partial last tile
];

describe.each(FORMATS)('%s matmul (GEMV, GEMM) and epilogues', (format) => {
  const cases = format === 'q8' || format === 'q4' ? CASES : [CASES[1], CASES[4], CASES[6]];
  it.each(cases)('n=%i K=%i out=%i bias=%s parts=%i', async (n, K, outDim, withBias, nParts) => {
    const x = randn(n * K, 4);
    const { parts: w, deq } = parts(randn(outDim * K, 5, 0.2), K, nParts, format);
    const b = withBias && nParts === 1 ? randn(outDim, 6) : undefined;
    const y = h.zeros(n * outDim);
    const rows = h.rows(n);
    h.run(matmulOps(h.k, { x: h.f32(x), w, y, K, outStride: outDim, rows, bias: b && h.f32(b), label: 'q' }));
    expect(toleranceRatio(await h.read(y, n * outDim), ref.matmul(x, deq, K, b), ATOL, RTOL)).toBeLessThan(1);
  });

  it.each([
    [1, 64, 40, 1],
    [3, 70, 19, 2],
    [37, 50, 70, 2],
  ])('n=%i K=%i out=%i parts=%i: accumulate and gate', async (n, K, outDim, nParts) => {
    const x = randn(n * K, 7);
    const { parts: w, deq } = parts(randn(outDim * K, 8, 0.2), K, nParts, format);
    await checkMatmulEpilogues(h, { x, w, wRef: deq, n, K, outDim }, { atol: ATOL, rtol: RTOL });
  });

  it.each([37, 64])('embedding gather across a split table (dim %i)', async (dim) => {
    const { parts: t, deq } = parts(randn(11 * dim, 1), dim, 2, format);
    const idx = [3, 10, 0, 7, 7, 2];
    const out = h.zeros(idx.length * dim);
    h.run(gatherRowsOps(h.k, { idx: h.u32(idx), table: t, out, dim, rows: h.rows(idx.length), label: 'g' }));
    const got = await h.read(out, idx.length * dim);
    expect(toleranceRatio(got, ref.gatherRows(deq, dim, idx), 1e-7, 1e-6)).toBeLessThan(1);
  });
});
