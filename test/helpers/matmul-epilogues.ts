import { expect } from 'vitest';
import { matmulOps } from '../../src/ops/matmul.ts';
import type { WeightPart } from '../../src/ops/weight-format.ts';
import * as ref from '../reference/ops.ts';
import { type KernelHarness, randn, toleranceRatio } from './gpu.ts';

/**
 * Runs the matmul of `x` [n, K] with the weight `w` (GPU parts) five ways — plain, accumulating into
 * y (residual add), gated (SwiGLU, and GeGLU with tanh GELU), soft-capped — and checks them against the
 * reference on `wRef` [outDim, K] (the exact values the kernel reads): the plain product within
 * tolerance, y += W x exactly the plain product plus y, the gated ones within tolerance of
 * silu(gate) * plain and gelu_tanh(gate) * plain, the capped one of 1.5·tanh(plain / 1.5).
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
  const geglu = h.zeros(n * outDim);
  const capped = h.zeros(n * outDim);
  h.run([
    ...matmulOps(h.k, { ...args, y: plain }),
    ...matmulOps(h.k, { ...args, y: acc, accumulate: true }),
    ...matmulOps(h.k, { ...args, y: gated, gate: h.f32(g) }),
    ...matmulOps(h.k, { ...args, y: geglu, gate: h.f32(g), gateAct: 'gelu_tanh' }),
    ...matmulOps(h.k, { ...args, y: capped, softcap: 1.5 }),
  ]);
  const p = await h.read(plain, n * outDim);
  expect(toleranceRatio(p, ref.matmul(x, a.wRef, K), tol.atol, tol.rtol)).toBeLessThan(1);
  expect(Array.from(await h.read(acc, n * outDim))).toEqual(Array.from(p, (v, i) => Math.fround(v + y0[i])));
  expect(toleranceRatio(await h.read(gated, n * outDim), ref.siluMul(g, p), tol.atol, tol.rtol)).toBeLessThan(
    1,
  );
  const gg = ref.geluTanhMul(g, p);
  expect(toleranceRatio(await h.read(geglu, n * outDim), gg, tol.atol, tol.rtol)).toBeLessThan(1);
  const cap = Float32Array.from(p);
  ref.softcapInPlace(cap, 1.5);
  expect(toleranceRatio(await h.read(capped, n * outDim), cap, tol.atol, tol.rtol)).toBeLessThan(1);
}
