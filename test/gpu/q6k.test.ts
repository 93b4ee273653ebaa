// Kernels reading GGUF Q6_K weights in the q6k layout: GEMV, GEMM with the fused epilogues and the
// embedding gather against the TypeScript references on the dequantized weights; the layout's
// reference dequantization against llama.cpp's (dequantizeGgml), and row slicing.
import { beforeAll, describe, expect, it } from 'vitest';
import { dequantizeGgml } from '../../src/model/gguf/gguf-blocks.ts';
import { quantizeGgml } from '../../src/model/gguf/gguf-quantize.ts';
import { dequantizeQ6k, repackQ6K, sliceQ6kRows } from '../../src/model/weights/q6k.ts';
import { gatherRowsOps } from '../../src/ops/embed.ts';
import { type GemvSplit, matmulOps } from '../../src/ops/matmul.ts';
import { q6kLayout, type WeightPart } from '../../src/ops/weight-format.ts';
import { type KernelHarness, kernelHarness, randn, toleranceRatio } from '../helpers/gpu.ts';
import { checkMatmulEpilogues } from '../helpers/matmul-epilogues.ts';
import * as ref from '../reference/ops.ts';

const ATOL = 1e-4;
const RTOL = 1e-3;

let h: KernelHarness;
beforeAll(async () => {
  h = await kernelHarness();
});

/** W [outDim, K] as Q6_K in `nParts` row parts (sliced from one repacked weight) and its values. */
function parts(w: Float32Array, K: number, nParts: number) {
  const outDim = w.length / K;
  const raw = quantizeGgml(w, 'Q6_K');
  const words = repackQ6K('w', raw, outDim, K);
  const deq = dequantizeQ6k(words, outDim, K);
  const per = Math.ceil(outDim / nParts);
  const out: WeightPart[] = [];
  for (let r0 = 0; r0 < outDim; r0 += per) {
    const rows = Math.min(per, outDim - r0);
    out.push({ buffer: h.u32(sliceQ6kRows(words, outDim, K, r0, rows)), rowStart: r0, rows, format: 'q6k' });
  }
  return { parts: out, deq, raw };
}

describe('q6k layout', () => {
  it("the reference dequantization equals llama.cpp's of the same blocks, and slices keep rows", () => {
    const [rows, K] = [5, 512];
    const { deq, raw } = parts(randn(rows * K, 2, 0.3), K, 1);
    expect(Array.from(deq)).toEqual(Array.from(dequantizeGgml(raw, 14, rows * K)));
    const words = repackQ6K('w', raw, rows, K);
    expect(words.length).toBe(q6kLayout(rows, K).words);
    const mid = dequantizeQ6k(sliceQ6kRows(words, rows, K, 2, 2), 2, K);
    expect(Array.from(mid)).toEqual(Array.from(deq.subarray(2 * K, 4 * K)));
  });

  it('a non-finite d is a ModelFormatError naming the tensor', () => {
    const raw = quantizeGgml(randn(256, 1), 'Q6_K');
    raw[209] = 0x7c;
    expect(() => repackQ6K('output.weight', raw, 1, 256)).toThrow(/output\.weight.*non-finite/);
  });
});

describe('q6k matmul (GEMV, GEMM) and epilogues', () => {
  it.each([
    [1, 256, 40, false, 1], // GEMV, one row, a partial 32-output workgroup
    [3, 512, 19, true, 1], // GEMV, 3 rows sharing each code load
    [4, 768, 301, false, 3], // GEMV over three parts
    [5, 256, 33, false, 2], // GEMM, split
    [70, 512, 130, true, 1], // GEMM, several 32x32 tiles, partial last tile
  ])('n=%i K=%i out=%i bias=%s parts=%i', async (n, K, outDim, withBias, nParts) => {
    const x = randn(n * K, 4);
    const { parts: w, deq } = parts(randn(outDim * K, 5, 0.2), K, nParts);
    const b = withBias ? randn(outDim, 6) : undefined;
    const y = h.zeros(n * outDim);
    h.run(
      matmulOps(h.k, {
        x: h.f32(x),
        w,
        y,
        K,
        outStride: outDim,
        rows: h.rows(n),
        bias: b && h.f32(b),
        label: 'q6',
      }),
    );
    expect(toleranceRatio(await h.read(y, n * outDim), ref.matmul(x, deq, K, b), ATOL, RTOL)).toBeLessThan(1);
  });

  it.each(['thread', 'shared', 'subgroup'] as GemvSplit[])(
    'GEMV split %s, one row and a few',
    async (split) => {
      for (const [n, K, outDim] of [
        [1, 256, 40],
        [3, 512, 19],
      ]) {
        const x = randn(n * K, 9);
        const { parts: w, deq } = parts(randn(outDim * K, 10, 0.2), K, 1);
        const y = h.zeros(n * outDim);
        const args = { x: h.f32(x), w, y, K, outStride: outDim, rows: h.rows(n), label: 'q6', split };
        h.run(matmulOps(h.k, args));
        const got = await h.read(y, n * outDim);
        expect(toleranceRatio(got, ref.matmul(x, deq, K), ATOL, RTOL), `n=${n}`).toBeLessThan(1);
      }
    },
  );

  it.each([
    [1, 256, 40, 1],
    [3, 512, 19, 2],
    [37, 256, 70, 2],
  ])('n=%i K=%i out=%i parts=%i: accumulate and gate', async (n, K, outDim, nParts) => {
    const x = randn(n * K, 7);
    const { parts: w, deq } = parts(randn(outDim * K, 8, 0.2), K, nParts);
    await checkMatmulEpilogues(h, { x, w, wRef: deq, n, K, outDim }, { atol: ATOL, rtol: RTOL });
  });

  it('embedding gather across a split table', async () => {
    const dim = 512;
    const { parts: t, deq } = parts(randn(11 * dim, 1), dim, 2);
    const idx = [3, 10, 0, 7, 7, 2];
    const out = h.zeros(idx.length * dim);
    h.run(gatherRowsOps(h.k, { idx: h.u32(idx), table: t, out, dim, rows: h.rows(idx.length), label: 'g' }));
    expect(Array.from(await h.read(out, idx.length * dim))).toEqual(
      Array.from(ref.gatherRows(deq, dim, idx)),
    );
  });
});
