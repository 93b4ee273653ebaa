import { beforeAll, describe, expect, it } from 'vitest';
import { uploadRopeTable } from '../../src/llama/rope-table.ts';
import { ropeOp } from '../../src/ops/rope.ts';
import { type KernelHarness, kernelHarness, randn, toleranceRatio } from '../helpers/gpu.ts';
import * as ref from '../reference/ops.ts';

const ATOL = 1e-5;
const RTOL = 1e-4;

let h: KernelHarness;
beforeAll(async () => {
  h = await kernelHarness();
});

describe('rope_kv: RoPE on q and k with the K/V cache write in one dispatch', () => {
  it.each([
    [3, 4, 2, 8],
    [2, 9, 3, 64],
  ])('n=%i H=%i KV=%i hd=%i', async (n, H, KV, hd) => {
    const ctx = 160;
    const kvDim = KV * hd;
    const pos = [7, 150, 0].slice(0, n);
    const q = randn(n * H * hd, 21);
    const kx = randn(n * kvDim, 22);
    const v = randn(n * kvDim, 23);
    const kc = randn(ctx * kvDim, 24);
    const vc = randn(ctx * kvDim, 25);
    const [qb, kb, kcb, vcb] = [h.f32(q), h.f32(kx), h.f32(kc), h.f32(vc)];
    h.run([
      ropeOp(h.k, {
        x: qb,
        pos: h.u32(new Int32Array(pos)),
        table: uploadRopeTable(h.k.device, ctx, hd, 10000),
        nHeads: H,
        headDim: hd,
        rowStride: H * hd,
        second: { x: kb, nHeads: KV, rowStride: kvDim },
        cache: { v: h.f32(v), kc: kcb, vc: vcb },
        rows: h.rows(n),
        label: 'rope_kv',
      }),
    ]);
    const [eq, ek] = [Float32Array.from(q), Float32Array.from(kx)];
    ref.rope(eq, pos, { nHeads: H, headDim: hd, rowStride: H * hd, theta: 10000 });
    ref.rope(ek, pos, { nHeads: KV, headDim: hd, rowStride: kvDim, theta: 10000 });
    pos.forEach((p, r) => {
      kc.set(ek.subarray(r * kvDim, (r + 1) * kvDim), p * kvDim);
      vc.set(v.subarray(r * kvDim, (r + 1) * kvDim), p * kvDim);
    });
    expect(toleranceRatio(await h.read(qb, n * H * hd), eq, ATOL, RTOL)).toBeLessThan(1);
    expect(toleranceRatio(await h.read(kcb, ctx * kvDim), kc, ATOL, RTOL)).toBeLessThan(1);
    expect(Array.from(await h.read(vcb, ctx * kvDim))).toEqual(Array.from(vc));
    // the keys' scratch rows are left as they were (only the cache gets the rotated keys)
    expect(Array.from(await h.read(kb, n * kvDim))).toEqual(Array.from(kx));
  });

  it('needs the keys', () => {
    const b = h.zeros(4);
    expect(() =>
      ropeOp(h.k, {
        x: b,
        pos: b,
        table: b,
        nHeads: 1,
        headDim: 2,
        rowStride: 2,
        cache: { v: b, kc: b, vc: b },
        rows: h.rows(1),
        label: 'x',
      }),
    ).toThrow(/needs the keys/);
  });
});
