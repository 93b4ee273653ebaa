// Kernels reading 16-bit weights packed two per u32 (F16 / BF16 checkpoints kept 16-bit on the GPU):
// GEMV (vec4 and scalar), GEMM and the embedding gather, against the TypeScript references.
import { beforeAll, describe, expect, it } from 'vitest';
import type { DType } from '../../src/model/types.ts';
import { decodeToF32, encodeFromF32, packHalfRows } from '../../src/model/weights/dtype.ts';
import { gatherRowsOps } from '../../src/ops/embed.ts';
import { GEMV_MAX_ROWS, matmulOps } from '../../src/ops/matmul.ts';
import type { WeightFormat, WeightPart } from '../../src/ops/weight-format.ts';
import { type KernelHarness, kernelHarness, randn, toleranceRatio } from '../helpers/gpu.ts';
import { checkMatmulEpilogues } from '../helpers/matmul-epilogues.ts';
import * as ref from '../reference/ops.ts';

// The weights are rounded to the 16-bit format first and the references read those exact values, so
// the tolerance is the f32 kernels' one: |gpu - ref| <= ATOL + RTOL * |ref| (float64 reference).
const ATOL = 1e-5;
const RTOL = 1e-4;

let h: KernelHarness;
beforeAll(async () => {
  h = await kernelHarness();
});

/** Values exactly representable in `dtype` (round to nearest even). */
function rounded(v: Float32Array, dtype: 'F16' | 'BF16'): Float32Array {
  return decodeToF32(encodeFromF32(v, dtype), dtype);
}

/** W [outDim, K] as `nParts` row parts in `format` (f32, or packed [rows, ceil(K/2)] u32). */
function parts(w: Float32Array, K: number, nParts: number, dtype: DType): WeightPart[] {
  const outDim = w.length / K;
  const per = Math.ceil(outDim / nParts);
  const format: WeightFormat = dtype === 'F32' ? 'f32' : dtype === 'F16' ? 'f16' : 'bf16';
  const out: WeightPart[] = [];
  for (let r0 = 0; r0 < outDim; r0 += per) {
    const rows = Math.min(per, outDim - r0);
    const values = w.subarray(r0 * K, (r0 + rows) * K);
    const buffer = dtype === 'F32' ? h.f32(values) : h.u32(packHalfRows(values, K, dtype));
    out.push({ buffer, rowStart: r0, rows, format });
  }
  return out;
}

describe.each(['BF16', 'F16'] as const)('packed %s matmul (GEMV vec4 / scalar, GEMM)', (dtype) => {
  it.each([
    [1, 64, 40, false, 1], // GEMV vec8, one row; 40 outputs: a partial 32-output workgroup
    [3, 64, 19, true, 1], // GEMV vec8, 3 rows sharing each weight load (ROWS = 4 workgroup, one row idle)
    [4, 576, 1001, false, 3], // lm-head-like GEMV over three parts
    [1, 37, 19, true, 1], // GEMV scalar, odd K
    [2, 38, 33, false, 2], // GEMV scalar, even K not a multiple of 4, split weight
    [4, 172, 64, true, 1], // GEMV scalar, K a multiple of 4 but not of 8
    [5, 37, 33, false, 3], // GEMM, odd K, split
    [37, 50, 70, true, 1], // GEMM, K not a multiple of 4 or of the 16-wide K tile
    [70, 64, 130, false, 3], // GEMM, several 32x32 tiles, partial last tile
  ])('n=%i K=%i out=%i bias=%s parts=%i', async (n, K, outDim, withBias, nParts) => {
    const x = randn(n * K, 4);
    const w = rounded(randn(outDim * K, 5, 0.2), dtype);
    const b = withBias && nParts === 1 ? randn(outDim, 6) : undefined;
    const run = async (d: DType, k = h.k) => {
      const y = h.zeros(n * outDim);
      const args = { x: h.f32(x), w: parts(w, K, nParts, d), y, K, outStride: outDim, rows: h.rows(n) };
      h.run(matmulOps(k, { ...args, bias: b && h.f32(b), label: `mm.${d}` }));
      return h.read(y, n * outDim);
    };
    const got = await run(dtype);
    expect(toleranceRatio(got, ref.matmul(x, w, K, b), ATOL, RTOL)).toBeLessThan(1);
    // The tiled GEMM keeps the f32 tiled GEMM's loads and accumulation order: identical results.
    if (n > GEMV_MAX_ROWS) {
      const tiled = { ...h.k, software: false };
      expect(Array.from(await run(dtype, tiled))).toEqual(Array.from(await run('F32', tiled)));
    }
  });
});

// The fused epilogues (residual add, SwiGLU) of every matmul kernel: GEMV vec / scalar and GEMM, f32
// and 16-bit. y += W x must equal the plain product plus y exactly (the separate add it replaces).
describe.each(['F32', 'BF16', 'F16'] as const)('%s matmul epilogues', (dtype) => {
  it.each([
    [1, 64, 40, 1], // GEMV vec, one row
    [3, 64, 19, 2], // GEMV vec, a few rows, split weight
    [2, 38, 33, 1], // GEMV scalar
    [37, 50, 70, 2], // GEMM, partial tiles, split weight
  ])('n=%i K=%i out=%i parts=%i: accumulate and gate', async (n, K, outDim, nParts) => {
    const x = randn(n * K, 7);
    const w = rounded(randn(outDim * K, 8, 0.2), dtype === 'F32' ? 'BF16' : dtype);
    const args = { x, w: parts(w, K, nParts, dtype), wRef: w, n, K, outDim };
    await checkMatmulEpilogues(h, args, { atol: ATOL, rtol: RTOL });
  });
});

describe.each(['BF16', 'F16'] as const)('packed %s embedding gather', (dtype) => {
  it.each([37, 64])('exact rows across a split table (dim %i)', async (dim) => {
    const table = rounded(randn(11 * dim, 1), dtype);
    table[2 * dim + 5] = 2 ** -20; // F16: subnormal; BF16: normal
    table[3 * dim] = -0;
    const idx = [3, 10, 0, 7, 7, 2];
    const out = h.zeros(idx.length * dim);
    const rows = h.rows(idx.length);
    const t = parts(table, dim, 2, dtype);
    h.run(gatherRowsOps(h.k, { idx: h.u32(idx), table: t, out, dim, rows, label: 'g' }));
    const got = await h.read(out, idx.length * dim);
    expect(Array.from(got)).toEqual(Array.from(ref.gatherRows(table, dim, idx)));
    expect(Object.is(got[0], -0)).toBe(true); // row 3 first
    expect(got[5 * dim + 5]).toBe(2 ** -20); // row 2 last
  });
});
