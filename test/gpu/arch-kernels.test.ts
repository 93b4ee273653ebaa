// Kernels of the newer architectures against their float64 references: Qwen3's per-head q/k RMSNorm
// and RoPE with scaled frequencies (Llama 3, linear) from the host-computed table.
import { beforeAll, describe, expect, it } from 'vitest';
import { uploadRopeTable } from '../../src/llama/rope-table.ts';
import type { RopeScaling } from '../../src/model/types.ts';
import { kvPatchOp } from '../../src/ops/kvpatch.ts';
import { rmsnormHeadsOp } from '../../src/ops/rmsnorm.ts';
import { ropeOp } from '../../src/ops/rope.ts';
import { type KernelHarness, kernelHarness, randn, toleranceRatio } from '../helpers/gpu.ts';
import * as ref from '../reference/ops.ts';

const ATOL = 1e-5;
const RTOL = 1e-4;

let h: KernelHarness;
beforeAll(async () => {
  h = await kernelHarness();
});

describe('per-head rmsnorm (q_norm / k_norm)', () => {
  it.each([
    [3, 4, 2, 128], // Qwen3's head_dim, more than one pass of 64 threads
    [5, 6, 3, 10],
  ])('%i rows, %i query heads, %i key heads of %i, in place in one dispatch', async (n, hq, hk, hd) => {
    const [sq, sk] = [hq * hd, hk * hd];
    const q = randn(n * sq, 3); // [n, hq·hd]
    const kx = randn(n * sk, 4); // [n, hk·hd]
    const wq = randn(hd, 5).map((v) => 1 + 0.3 * v); // [hd]
    const wk = randn(hd, 6).map((v) => 1 + 0.3 * v); // [hd]
    const [qb, kb] = [h.f32(q), h.f32(kx)];
    const eps = 1e-6;
    h.run([
      rmsnormHeadsOp(h.k, {
        x: qb,
        w: h.f32(wq),
        nHeads: hq,
        rowStride: sq,
        second: { x: kb, w: h.f32(wk), nHeads: hk, rowStride: sk },
        headDim: hd,
        eps,
        rows: h.rows(n),
        label: 'qk_norm',
      }),
    ]);
    // reference: q as [n·hq, hd], k as [n·hk, hd]
    const eq = ref.rmsnorm(q, wq, hd, eps);
    const ek = ref.rmsnorm(kx, wk, hd, eps);
    expect(toleranceRatio(await h.read(qb, n * sq), eq, ATOL, RTOL)).toBeLessThan(1);
    expect(toleranceRatio(await h.read(kb, n * sk), ek, ATOL, RTOL)).toBeLessThan(1);
  });

  it('leaves rows past the row count untouched', async () => {
    const hd = 16;
    const q = randn(3 * 2 * hd, 8);
    const kx = randn(3 * hd, 9);
    const [qb, kb] = [h.f32(q), h.f32(kx)];
    const w = h.f32(new Float32Array(hd).fill(1));
    h.run([
      rmsnormHeadsOp(h.k, {
        x: qb,
        w,
        nHeads: 2,
        rowStride: 2 * hd,
        second: { x: kb, w, nHeads: 1, rowStride: hd },
        headDim: hd,
        eps: 1e-6,
        rows: h.rows(2),
        label: 'qk_norm',
      }),
    ]);
    const got = await h.read(qb, 3 * 2 * hd);
    expect(Array.from(got.subarray(4 * hd))).toEqual(Array.from(q.subarray(4 * hd)));
    expect(
      toleranceRatio(
        got.subarray(0, 4 * hd),
        ref.rmsnorm(q.subarray(0, 4 * hd), new Float32Array(hd).fill(1), hd, 1e-6),
        ATOL,
        RTOL,
      ),
    ).toBeLessThan(1);
  });
});

describe('rope with scaled frequencies', () => {
  const llama3: RopeScaling = {
    type: 'llama3',
    factor: 32,
    lowFreqFactor: 1,
    highFreqFactor: 4,
    originalMaxPositions: 64, // small, so positions below 512 see all three regimes
  };
  it.each([
    ['llama3', llama3],
    ['linear', { type: 'linear', factor: 4 } as RopeScaling],
    ['divisors', { type: 'divisors', divisors: [1, 1.5, 2, 4, 8, 16, 32, 32] } as RopeScaling],
  ])(
    '%s: the table rotates as the reference, including negative (re-rotation) positions',
    async (_, scaling) => {
      const n = 5;
      const nHeads = 2;
      const hd = 16;
      const stride = nHeads * hd;
      const pos = [0, 3, 77, 400, -77];
      const x = randn(n * stride, 21); // [n, nHeads·hd]
      const buf = h.f32(x);
      h.run([
        ropeOp(h.k, {
          x: buf,
          pos: h.u32(new Int32Array(pos)),
          table: uploadRopeTable(h.k.device, 512, hd, 500000, scaling),
          nHeads,
          headDim: hd,
          rowStride: stride,
          rows: h.rows(n),
          label: 'r',
        }),
      ]);
      const expected = Float32Array.from(x);
      ref.rope(expected, pos, { nHeads, headDim: hd, rowStride: stride, theta: 500000, scaling });
      const got = await h.read(buf, n * stride);
      expect(toleranceRatio(got, expected, ATOL, RTOL)).toBeLessThan(1);
      // and it differs from plain RoPE at position 400 (the scaling is not a no-op)
      const plain = Float32Array.from(x);
      ref.rope(plain, pos, { nHeads, headDim: hd, rowStride: stride, theta: 500000 });
      expect(
        toleranceRatio(
          got.subarray(3 * stride, 4 * stride),
          plain.subarray(3 * stride, 4 * stride),
          ATOL,
          RTOL,
        ),
      ).toBeGreaterThan(1);
    },
  );
});

describe('kv patch re-rotation with scaled frequencies', () => {
  it('a key rotated at its old position and patched to a new one equals the key rotated at the new one', async () => {
    const scaling: RopeScaling = {
      type: 'llama3',
      factor: 8,
      lowFreqFactor: 1,
      highFreqFactor: 4,
      originalMaxPositions: 32,
    };
    const [nKv, hd, ctx] = [2, 16, 128];
    const kvDim = nKv * hd;
    const ro = { nHeads: nKv, headDim: hd, rowStride: kvDim, theta: 500000, scaling };
    const moves: [number, number][] = [
      [3, 70],
      [90, 10],
      [5, 5],
    ]; // (old, new)
    const raw = randn(moves.length * kvDim, 41); // [T, kvDim] keys before RoPE
    const atOld = Float32Array.from(raw);
    ref.rope(
      atOld,
      moves.map(([o]) => o),
      ro,
    );
    const atNew = Float32Array.from(raw);
    ref.rope(
      atNew,
      moves.map(([, n]) => n),
      ro,
    );
    const kc = h.zeros(ctx * kvDim);
    const rowmap = new Int32Array(moves.flatMap(([o, n], i) => [i, n, o, 0]));
    h.run([
      kvPatchOp(h.k, {
        rowmap: h.u32(rowmap),
        table: uploadRopeTable(h.k.device, ctx, hd, 500000, scaling),
        ksrc: h.f32(atOld),
        vsrc: h.f32(raw),
        kc,
        vc: h.zeros(ctx * kvDim),
        nKvHeads: nKv,
        headDim: hd,
        rows: h.rows(moves.length),
        label: 'patch',
      }),
    ]);
    const got = await h.read(kc, ctx * kvDim);
    for (const [i, [, n]] of moves.entries()) {
      const row = got.subarray(n * kvDim, (n + 1) * kvDim);
      expect(toleranceRatio(row, atNew.subarray(i * kvDim, (i + 1) * kvDim), 1e-5, 1e-4)).toBeLessThan(1);
    }
  });
});

describe("rope's query scale (longrope's attention factor on the rotated pairs)", () => {
  it('scales pairs i < pairs of the queries only; keys are rotated unscaled', async () => {
    const [n, hq, hk, hd] = [3, 2, 1, 10];
    const [sq, sk] = [hq * hd, hk * hd];
    const pos = [0, 7, 40];
    const q = randn(n * sq, 51); // [n, hq·hd]
    const kx = randn(n * sk, 52); // [n, hk·hd]
    const [qb, kb] = [h.f32(q), h.f32(kx)];
    h.run([
      ropeOp(h.k, {
        x: qb,
        pos: h.u32(new Int32Array(pos)),
        table: uploadRopeTable(h.k.device, 64, hd, 10000, undefined, 6),
        nHeads: hq,
        headDim: hd,
        rowStride: sq,
        second: { x: kb, nHeads: hk, rowStride: sk },
        rows: h.rows(n),
        qScale: { factor: 1.7, pairs: 3 },
        label: 'rope',
      }),
    ]);
    const ro = { headDim: hd, theta: 10000, rotaryDim: 6 };
    const [eq, ek] = [Float32Array.from(q), Float32Array.from(kx)];
    ref.rope(eq, pos, { ...ro, nHeads: hq, rowStride: sq });
    ref.rope(ek, pos, { ...ro, nHeads: hk, rowStride: sk });
    for (let i = 0; i < eq.length; i++) if (i % (hd / 2) < 3) eq[i] *= 1.7;
    expect(toleranceRatio(await h.read(qb, n * sq), eq, ATOL, RTOL)).toBeLessThan(1);
    expect(toleranceRatio(await h.read(kb, n * sk), ek, ATOL, RTOL)).toBeLessThan(1);
    // the pairs past rotaryDim/2 (4, 9 of each head) are left as they were
    const got = await h.read(qb, n * sq);
    expect(got[2 * sq + 4]).toBe(q[2 * sq + 4]);
  });
});
