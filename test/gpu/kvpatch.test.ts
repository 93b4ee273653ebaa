import { beforeAll, describe, expect, it } from 'vitest';
import { uploadRopeTable } from '../../src/llama/rope-table.ts';
import { deviationOp, kvPatchOp, scoreOp } from '../../src/ops/kvpatch.ts';
import { type KernelHarness, kernelHarness, randn, toleranceRatio } from '../helpers/gpu.ts';
import * as ref from '../reference/ops.ts';

let h: KernelHarness;
beforeAll(async () => {
  h = await kernelHarness();
});

describe('kv patch kernel', () => {
  it('gathers rows to new positions, re-rotating keys by the shift (forward and backward)', async () => {
    const nKv = 3;
    const hd = 10;
    const kvDim = nKv * hd;
    const T = 9;
    const ctx = 64;
    const ksrc = randn(T * kvDim, 21);
    const vsrc = randn(T * kvDim, 22);
    const kc = randn(ctx * kvDim, 23);
    const vc = randn(ctx * kvDim, 24);
    // (src row, new position, old position): shifts +5, 0, -2, +40 and a row copied twice
    const rowmap: [number, number, number][] = [
      [0, 5, 0],
      [3, 3, 3],
      [8, 6, 8],
      [2, 42, 2],
      [2, 43, 2],
    ];
    const kcBuf = h.f32(kc);
    const vcBuf = h.f32(vc);
    const packed = new Int32Array(rowmap.flatMap(([s, d, o]) => [s, d, o, 0]));
    h.run([
      kvPatchOp(h.k, {
        rowmap: h.u32(packed),
        table: uploadRopeTable(h.k.device, ctx, hd, 10000),
        ksrc: h.f32(ksrc),
        vsrc: h.f32(vsrc),
        kc: kcBuf,
        vc: vcBuf,
        nKvHeads: nKv,
        headDim: hd,
        rows: h.rows(rowmap.length),
        label: 'patch',
      }),
    ]);
    ref.kvPatch(rowmap, ksrc, vsrc, kc, vc, { nKvHeads: nKv, headDim: hd, theta: 10000 });
    expect(toleranceRatio(await h.read(kcBuf, ctx * kvDim), kc, 1e-5, 1e-4)).toBeLessThan(1);
    expect(Array.from(await h.read(vcBuf, ctx * kvDim))).toEqual(Array.from(vc));
  });
});

describe('deviation and score kernels', () => {
  it('score[j] = mean_h alpha[h, j] * |v_fresh[j] - v_cached[j]|_1', async () => {
    const kvDim = 37;
    const nHeads = 3;
    const ctx = 32;
    const len = 11;
    const pos = Array.from({ length: len }, (_, i) => i);
    const v = randn(len * kvDim, 31);
    const vc = randn(ctx * kvDim, 32);
    const probs = randn(nHeads * ctx, 33).map(Math.abs);
    const dev = h.zeros(ctx);
    const score = h.zeros(len);
    const rows = h.rows(len);
    h.run([
      deviationOp(h.k, {
        pos: h.u32(new Int32Array(pos)),
        v: h.f32(v),
        vc: h.f32(vc),
        dev,
        kvDim,
        headDim: kvDim,
        rows,
        label: 'dev',
      }),
      scoreOp(h.k, { probs: h.f32(probs), dev, score, nHeads, ctx, len: rows, label: 'score' }),
    ]);
    const perHead = Array.from({ length: nHeads }, (_, hh) => probs.subarray(hh * ctx, (hh + 1) * ctx));
    const expected = ref.deviationScores(v, vc, pos, perHead, kvDim, len);
    expect(toleranceRatio(await h.read(score, len), expected, 1e-5, 1e-4)).toBeLessThan(1);
  });
});
