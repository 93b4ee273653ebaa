import { beforeAll, describe, expect, it } from 'vitest';
import { ropeOp } from '../../src/ops/rope.ts';
import { type KernelHarness, kernelHarness, toleranceRatio } from '../helpers/gpu.ts';
import { runRopeKv } from '../helpers/kv-writers.ts';

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
    const c = runRopeKv(h, { dtype: 'f32', upload: (a) => h.f32(a) }, [n, H, KV, hd], 'rope_kv');
    expect(toleranceRatio(await h.read(c.qb, n * H * hd), c.eq, ATOL, RTOL)).toBeLessThan(1);
    expect(toleranceRatio(await h.read(c.kcb, c.ctx * c.kvDim), c.kc, ATOL, RTOL)).toBeLessThan(1);
    expect(Array.from(await h.read(c.vcb, c.ctx * c.kvDim))).toEqual(Array.from(c.vc));
    // the keys' scratch rows are left as they were (only the cache gets the rotated keys)
    expect(Array.from(await h.read(c.kb, n * c.kvDim))).toEqual(Array.from(c.kx));
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
