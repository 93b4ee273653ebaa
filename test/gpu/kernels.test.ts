import { beforeAll, describe, expect, it } from 'vitest';
import { uploadRopeTable } from '../../src/llama/rope-table.ts';
import { argmaxOp } from '../../src/ops/argmax.ts';
import { attentionOp } from '../../src/ops/attention.ts';
import { gatherRowsOps } from '../../src/ops/embed.ts';
import { kvScatterOp } from '../../src/ops/kvcache.ts';
import { matmulOps } from '../../src/ops/matmul.ts';
import { rmsnormOp } from '../../src/ops/rmsnorm.ts';
import { ropeOp } from '../../src/ops/rope.ts';
import { type KernelHarness, kernelHarness, randn, toleranceRatio } from '../helpers/gpu.ts';
import * as ref from '../reference/ops.ts';

// Tolerance for f32 kernels vs float64 references: |gpu - ref| <= ATOL + RTOL * |ref|.
const ATOL = 1e-5;
const RTOL = 1e-4;

let h: KernelHarness;
beforeAll(async () => {
  h = await kernelHarness();
});

describe('embed gather', () => {
  it('gathers rows across a split table (odd dim 37)', async () => {
    const dim = 37;
    const table = randn(11 * dim, 1);
    const idx = [3, 10, 0, 7, 7];
    const out = h.zeros(idx.length * dim);
    const parts = [
      { buffer: h.f32(table.subarray(0, 6 * dim)), rowStart: 0, rows: 6, format: 'f32' as const },
      { buffer: h.f32(table.subarray(6 * dim)), rowStart: 6, rows: 5, format: 'f32' as const },
    ];
    const rows = h.rows(idx.length);
    h.run(gatherRowsOps(h.k, { idx: h.u32(idx), table: parts, out, dim, rows, label: 'g' }));
    expect(Array.from(await h.read(out, idx.length * dim))).toEqual(
      Array.from(ref.gatherRows(table, dim, idx)),
    );
  });
});

describe('rmsnorm', () => {
  it.each([
    [1, 64],
    [5, 37],
    [3, 300],
  ])('%i rows of dim %i', async (n, dim) => {
    const x = randn(n * dim, 2, 3);
    const w = randn(dim, 3);
    const out = h.zeros(n * dim);
    h.run([rmsnormOp(h.k, { x: h.f32(x), w: h.f32(w), out, dim, eps: 1e-5, rows: h.rows(n), label: 'n' })]);
    expect(toleranceRatio(await h.read(out, n * dim), ref.rmsnorm(x, w, dim, 1e-5), ATOL, RTOL)).toBeLessThan(
      1,
    );
  });
});

describe('matmul (GEMV and GEMM, vec4 and scalar, split weights, bias)', () => {
  it.each([
    [1, 64, 40, false, 1],
    [3, 37, 19, true, 1],
    [4, 172, 64, true, 2],
    [5, 64, 33, false, 1],
    [37, 50, 70, true, 1],
    [70, 64, 130, false, 3],
  ])('n=%i K=%i out=%i bias=%s parts=%i', async (n, K, outDim, withBias, nParts) => {
    const x = randn(n * K, 4);
    const w = randn(outDim * K, 5, 0.2);
    const b = withBias ? randn(outDim, 6) : undefined;
    const per = Math.ceil(outDim / nParts);
    const parts = [];
    for (let r0 = 0; r0 < outDim; r0 += per) {
      const rows = Math.min(per, outDim - r0);
      parts.push({
        buffer: h.f32(w.subarray(r0 * K, (r0 + rows) * K)),
        rowStart: r0,
        rows,
        format: 'f32' as const,
      });
    }
    const y = h.zeros(n * outDim);
    const args = { x: h.f32(x), w: parts, y, K, outStride: outDim, rows: h.rows(n), label: 'mm' };
    if (b && nParts === 1) Object.assign(args, { bias: h.f32(b) });
    h.run(matmulOps(h.k, args));
    const expected = ref.matmul(x, w, K, nParts === 1 ? b : undefined);
    expect(toleranceRatio(await h.read(y, n * outDim), expected, ATOL, RTOL)).toBeLessThan(1);
  });
});

describe('rope', () => {
  it('rotate-half at given positions, including negative (inverse) rotations', async () => {
    const n = 5;
    const nHeads = 3;
    const hd = 10;
    const stride = nHeads * hd;
    const pos = [0, 1, 17, 300, -17];
    const x = randn(n * stride, 7);
    const buf = h.f32(x);
    const table = uploadRopeTable(h.k.device, 512, hd, 10000);
    h.run([
      ropeOp(h.k, {
        x: buf,
        pos: h.u32(new Int32Array(pos)),
        table,
        nHeads,
        headDim: hd,
        rowStride: stride,
        rows: h.rows(n),
        label: 'r',
      }),
    ]);
    const expected = Float32Array.from(x);
    ref.rope(expected, pos, { nHeads, headDim: hd, rowStride: stride, theta: 10000 });
    expect(toleranceRatio(await h.read(buf, n * stride), expected, ATOL, RTOL)).toBeLessThan(1);
  });

  it('rotates queries and keys (different head counts and strides) in one dispatch', async () => {
    const n = 4;
    const hd = 8;
    const [hq, hk] = [4, 2];
    const [sq, sk] = [hq * hd, hk * hd + 3]; // keys with a padded row
    const pos = [0, 5, 9, 130];
    const q = randn(n * sq, 11);
    const kx = randn(n * sk, 12);
    const [qb, kb] = [h.f32(q), h.f32(kx)];
    const table = uploadRopeTable(h.k.device, 256, hd, 500);
    const rows = h.rows(n);
    const second = { x: kb, nHeads: hk, rowStride: sk };
    const p = h.u32(new Int32Array(pos));
    h.run([
      ropeOp(h.k, {
        x: qb,
        pos: p,
        table,
        nHeads: hq,
        headDim: hd,
        rowStride: sq,
        second,
        rows,
        label: 'qk',
      }),
    ]);
    const [eq, ek] = [Float32Array.from(q), Float32Array.from(kx)];
    ref.rope(eq, pos, { nHeads: hq, headDim: hd, rowStride: sq, theta: 500 });
    ref.rope(ek, pos, { nHeads: hk, headDim: hd, rowStride: sk, theta: 500 });
    expect(toleranceRatio(await h.read(qb, n * sq), eq, ATOL, RTOL)).toBeLessThan(1);
    expect(toleranceRatio(await h.read(kb, n * sk), ek, ATOL, RTOL)).toBeLessThan(1);
  });
});

// software: the many-row kernel of software adapters (attend_thread) or of GPUs (attend).
describe('kv scatter + attention (GQA, causal by position)', () => {
  it.each([
    [1, 4, 2, 8, [9], false],
    [4, 6, 2, 12, [0, 5, 2, 11], false],
    [3, 8, 8, 7, [3, 30, 100], false],
    [4, 6, 2, 12, [0, 5, 2, 11], true],
    [3, 8, 8, 7, [3, 30, 100], true],
  ])('n=%i H=%i KV=%i hd=%i positions=%j software=%s', async (n, H, KV, hd, positions, software) => {
    const ctx = 128;
    const kvDim = KV * hd;
    const kc = randn(ctx * kvDim, 8);
    const vc = randn(ctx * kvDim, 9);
    const q = randn(n * H * hd, 10);
    const kNew = randn(n * kvDim, 11);
    const vNew = randn(n * kvDim, 12);
    const kcBuf = h.f32(kc);
    const vcBuf = h.f32(vc);
    const pos = h.u32(new Int32Array(positions));
    const out = h.zeros(n * H * hd);
    const probs = h.zeros(n * H * ctx);
    const rows = h.rows(n);
    h.run([
      kvScatterOp(h.k, {
        pos,
        k: h.f32(kNew),
        v: h.f32(vNew),
        kc: kcBuf,
        vc: vcBuf,
        kvDim,
        headDim: hd,
        rows,
        label: 's',
      }),
      attentionOp(
        { ...h.k, software },
        {
          q: h.f32(q),
          kc: kcBuf,
          vc: vcBuf,
          pos,
          probs,
          out,
          nHeads: H,
          nKvHeads: KV,
          headDim: hd,
          ctx,
          rows,
          label: 'a',
        },
      ),
    ]);
    positions.forEach((p, i) => {
      kc.set(kNew.subarray(i * kvDim, (i + 1) * kvDim), p * kvDim);
      vc.set(vNew.subarray(i * kvDim, (i + 1) * kvDim), p * kvDim);
    });
    expect(Array.from(await h.read(kcBuf, ctx * kvDim))).toEqual(Array.from(kc));
    const expected = ref.attention(q, kc, vc, positions, { nHeads: H, nKvHeads: KV, headDim: hd });
    expect(toleranceRatio(await h.read(out, n * H * hd), expected.out, ATOL, RTOL)).toBeLessThan(1);
    // The normalised weights stay in probs [n, H, ctx] (the deviation probe reads them).
    const gotProbs = await h.read(probs, n * H * ctx);
    const wantProbs = new Float32Array(n * H * ctx);
    for (const [r, heads] of expected.probs.entries())
      for (const [hh, p] of heads.entries()) wantProbs.set(Float32Array.from(p), (r * H + hh) * ctx);
    expect(toleranceRatio(gotProbs, wantProbs, ATOL, RTOL)).toBeLessThan(1);
  });
});

describe('argmax', () => {
  it('picks the largest logit per row, lowest index on ties', async () => {
    const vocab = 1001;
    const logits = randn(3 * vocab, 16);
    logits[vocab + 500] = 5;
    logits[vocab + 700] = 5; // tie: 500 wins
    const out = h.zeros(3);
    h.run([argmaxOp(h.k, { logits: h.f32(logits), out, vocab, rows: h.rows(3), label: 'am' })]);
    const got = Array.from(await h.readU32(out, 3));
    expect(got).toEqual(ref.argmax(logits, vocab));
    expect(got[1]).toBe(500);
  });
});
