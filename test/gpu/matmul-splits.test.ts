// The matmul work splits, every weight format, with the bias and residual-add epilogue, against the
// TypeScript reference. GEMV (src/ops/matmul.ts gemvSplit): one thread per dot product ('thread',
// software adapters), TPO threads reduced through shared memory ('shared') or subgroup shuffles
// ('subgroup', needs the adapter's `subgroups`: lavapipe and SwiftShader have them), both entry
// points (one row with four outputs per thread, a few rows sharing each weight load; on lavapipe the
// 'thread' split reads x once per subgroup, matmul_x_subgroup, for 16-bit weights). GEMM: the
// barrier-free 4x4 blocks of software adapters (quantized: K % 32 == 0) and the shared-memory
// tiles of GPUs.
import { beforeAll, describe, expect, it } from 'vitest';
import type { KernelContext } from '../../src/ops/context.ts';
import { type GemvSplit, matmulOps } from '../../src/ops/matmul.ts';
import type { WeightFormat } from '../../src/ops/weight-format.ts';
import { type KernelHarness, kernelHarness, randn, toleranceRatio } from '../helpers/gpu.ts';
import { weightParts } from '../helpers/weight-parts.ts';
import * as ref from '../reference/ops.ts';

const ATOL = 1e-4;
const RTOL = 1e-3;

let h: KernelHarness;
beforeAll(async () => {
  h = await kernelHarness();
});

const FORMATS: WeightFormat[] = ['f32', 'bf16', 'f16', 'q8', 'q4', 'q4m'];
const CASES: [number, number, number, number][] = [
  // n, K, out, parts
  [1, 64, 40, 1], // one row: vec kernel, partial workgroup, outputs not a multiple of 4
  [1, 96, 1001, 2], // one row, lm-head-like, split weight
  [3, 64, 19, 1], // a few rows (one idle row of the 4-row workgroup)
  [4, 160, 67, 2],
  [1, 37, 19, 1], // scalar kernels (K not a multiple of 4)
  [2, 38, 33, 1],
];

/** y0 + W x (+ b) on the GPU, and the reference, for `k` (the harness's context or a variant). */
async function run(
  k: KernelContext,
  n: number,
  K: number,
  outDim: number,
  nParts: number,
  format: WeightFormat,
  split?: GemvSplit,
) {
  const x = randn(n * K, 11);
  const { parts, exact } = weightParts(h, randn(outDim * K, 12, 0.2), K, nParts, format);
  const b = nParts === 1 ? randn(outDim, 13) : undefined;
  const y0 = randn(n * outDim, 14);
  const y = h.f32(y0);
  const args = { x: h.f32(x), w: parts, y, K, outStride: outDim, rows: h.rows(n), label: 'mm', split };
  h.run(matmulOps(k, { ...args, bias: b && h.f32(b), accumulate: true }));
  const want = ref.matmul(x, exact, K, b).map((v, i) => v + y0[i]);
  return { got: await h.read(y, n * outDim), want };
}

describe.each(['thread', 'shared', 'subgroup'] as GemvSplit[])('GEMV split %s', (split) => {
  it('runs on this adapter', () => {
    // The unit tests run on lavapipe (subgroups of 8): every split is exercised, none skipped.
    if (split === 'subgroup') expect(h.k.subgroupSize).toBeGreaterThanOrEqual(4);
  });
  describe.each(FORMATS)('%s', (format) => {
    it.each(CASES)('n=%i K=%i out=%i parts=%i, y += W x (+ b)', async (n, K, outDim, nParts) => {
      const { got, want } = await run(h.k, n, K, outDim, nParts, format, split);
      expect(toleranceRatio(got, want, ATOL, RTOL)).toBeLessThan(1);
    });
  });
});

describe.each([
  ['4x4 blocks (software adapters)', true],
  ['shared-memory tiles (GPUs)', false],
] as const)('GEMM %s', (_name, software) => {
  it.each(FORMATS)('%s', async (format) => {
    const k = { ...h.k, software };
    // n, K, out, parts: partial tiles, K a multiple of 32 (quantized 4x4 blocks) / of 8 / of 4
    // only / odd, split weight
    for (const [n, K, outDim, nParts] of [
      [37, 64, 70, 1],
      [6, 32, 45, 1],
      [70, 96, 130, 3],
      [5, 36, 33, 1],
      [9, 37, 19, 2],
    ]) {
      const { got, want } = await run(k, n, K, outDim, nParts, format);
      expect(toleranceRatio(got, want, ATOL, RTOL), `n=${n} K=${K} out=${outDim}`).toBeLessThan(1);
    }
  });
});
