import { expect } from 'vitest';
import { matmulOps } from '../../src/ops/matmul.ts';
import type { WeightPart } from '../../src/ops/weight-format.ts';
import * as ref from '../reference/ops.ts';
import { type KernelHarness, randn, toleranceRatio } from './gpu.ts';

/**
 * Runs the matmul of `x` [n, K] with the weight `w` (GPU parts) three ways — plain, accumulating into
 * y (residual add), gated (SwiGLU) — and checks them against the reference on `wRef` [outDim, K]
 * (the exact values the kernel reads): the plain product within tolerance, y += W x exactly the
 * plain product plus y, the gated one within tolerance of silu(gate) * plain.
 */
export async function checkMatmulEpilogues(
  h: KernelHarness,
  a: { x: Float32Array; w: WeightPart[]; wRef: Float32Array; n: number; K: number; outDim: number },
  tol: { atol: number; rtol: number },
): Promise<void> {
  const { x, n, K, outDim } = a;
  const y0 = randn(n * outDim, 9);
  const g = randn(n * outDim, 10, 3);
  const args = { x: h.f32(x), w: a.w, K, outStride: outDim, rows: h.rows(n), label: 'mm' };
  const plain = h.zeros(n * outDim);
  const acc = h.f32(y0);
  const gated = h.zeros(n * outDim);
  h.run([
    ...matmulOps(h.k, { ...args, y: plain }),
    ...matmulOps(h.k, { ...args, y: acc, accumulate: true }),
    ...matmulOps(h.k, { ...args, y: gated, gate: h.f32(g) }),
  ]);
  const p = await h.read(plain, n * outDim);
  expect(toleranceRatio(p, ref.matmul(x, a.wRef, K), tol.atol, tol.rtol)).toBeLessThan(1);
  expect(Array.from(await h.read(acc, n * outDim))).toEqual(Array.from(p, (v, i) => Math.fround(v + y0[i])));
  expect(toleranceRatio(await h.read(gated, n * outDim), ref.siluMul(g, p), tol.atol, tol.rtol)).toBeLessThan(
    1,
  );
}
