// The K/V readers' tests, shared by the 16-bit and 8-bit caches (test/gpu/kv-f16.test.ts,
// kv-q8.test.ts): every attention variant and the deviation kernel read a cache stored in `dtype`, and
// are checked against the f32 reference over the stored values (ref.kvStored), so only the reading is
// under test.
import { describe, expect, it } from 'vitest';
import type { KVDtype } from '../../src/api/model.ts';
import { attentionOp } from '../../src/ops/attention.ts';
import { AttentionSplits, flashAttentionOps, flashPartBytes } from '../../src/ops/attention-flash.ts';
import { threadAttentionOps } from '../../src/ops/attention-thread.ts';
import { deviationOp } from '../../src/ops/kvpatch.ts';
import { q8GroupFor } from '../../src/util/kv-q8.ts';
import * as ref from '../reference/ops.ts';
import { type KernelHarness, randn, toleranceRatio } from './gpu.ts';

export interface KVReaderCase {
  dtype: Exclude<KVDtype, 'f32'>;
  /** The harness, once beforeAll has made it. */
  harness: () => KernelHarness;
  /** [n] values as stored → a GPU buffer in `dtype` for heads of `headDim` (q8: groups of q8GroupFor(headDim)). */
  upload: (a: Float32Array, headDim: number) => GPUBuffer;
  /** [rows, H, KV, hd, positions] of the attention cases. */
  shapes: [number, number, number, number, number[]][];
  /** [kvDim, headDim] of the deviation cases (a row a whole number of the dtype's storage units). */
  deviation: [number, number][];
  /** What the deviation case says the fresh V is compared as (e.g. "rounded to halves"). */
  deviationWhat: string;
}

export function describeKVReaders(c: KVReaderCase): void {
  const { dtype, shapes } = c;
  const tag = dtype === 'f16' ? '16' : '8';

  function inputs(n: number, H: number, KV: number, hd: number, positions: number[]) {
    const h = c.harness();
    const ctx = Math.max(...positions) + 5;
    const kvDim = KV * hd;
    const g = q8GroupFor(hd); // q8: the group the cache is stored in
    const kc = ref.kvStored(randn(ctx * kvDim, 8, 2), dtype, g); // [ctx, kvDim]
    const vc = ref.kvStored(randn(ctx * kvDim, 9, 2), dtype, g); // [ctx, kvDim]
    const q = randn(n * H * hd, 10, 2); // [n, H, hd]
    const want = ref.attention(q, kc, vc, positions, { nHeads: H, nKvHeads: KV, headDim: hd }).out;
    const args = {
      q: h.f32(q),
      kc: c.upload(kc, hd),
      vc: c.upload(vc, hd),
      dtype,
      pos: h.u32(new Int32Array(positions)),
      out: h.zeros(n * H * hd),
      nHeads: H,
      nKvHeads: KV,
      headDim: hd,
      rows: h.rows(n, Math.max(4, n)),
      label: `a${tag}`,
    };
    return { ctx, want, args };
  }

  describe(`${dtype} KV readers`, () => {
    it.each(shapes)(
      'attention (attend / attend_thread) n=%i H=%i KV=%i hd=%i positions %j',
      async (n, H, KV, hd, positions) => {
        const h = c.harness();
        for (const software of [false, true]) {
          const { ctx, want, args } = inputs(n, H, KV, hd, positions);
          h.run([attentionOp({ ...h.k, software }, { ...args, probs: h.zeros(n * H * ctx), ctx })]);
          expect(toleranceRatio(await h.read(args.out, n * H * hd), want, 1e-5, 1e-4)).toBeLessThan(1);
        }
      },
    );

    it.each(shapes)('flash attention n=%i H=%i KV=%i hd=%i positions %j', async (n, H, KV, hd, positions) => {
      const h = c.harness();
      const { want, args } = inputs(n, H, KV, hd, positions);
      const splits = new AttentionSplits(h.k.device);
      splits.setSpan(Math.max(...positions) + 1);
      const part = h.zeros(flashPartBytes(args.rows.max, H, hd) / 4);
      h.run(flashAttentionOps(h.k, { ...args, part, splits }));
      expect(toleranceRatio(await h.read(args.out, n * H * hd), want, 1e-5, 1e-4)).toBeLessThan(1);
    });

    it.each(shapes)(
      'thread attention n=%i H=%i KV=%i hd=%i positions %j',
      async (n, H, KV, hd, positions) => {
        const h = c.harness();
        const { ctx, want, args } = inputs(n, H, KV, hd, positions);
        const splits = new AttentionSplits(h.k.device);
        splits.setSpan(Math.max(...positions) + 1);
        h.run(threadAttentionOps(h.k, { ...args, scores: h.zeros(n * H * ctx), ctx, chunks: splits.chunks }));
        expect(toleranceRatio(await h.read(args.out, n * H * hd), want, 1e-5, 1e-4)).toBeLessThan(1);
      },
    );

    it.each(c.deviation)(
      `deviation compares the fresh V ${c.deviationWhat} with the ${dtype} cache (0 for an unchanged row): kvDim %i hd %i`,
      async (kvDim, hd) => {
        const h = c.harness();
        const g = q8GroupFor(hd);
        const ctx = 32;
        const len = 11;
        const pos = Array.from({ length: len }, (_, i) => i);
        const v = randn(len * kvDim, 31); // [len, kvDim]
        const vc = ref.kvStored(randn(ctx * kvDim, 32), dtype, g); // [ctx, kvDim]
        vc.set(ref.kvStored(v.subarray(4 * kvDim, 5 * kvDim), dtype, g), 4 * kvDim); // row 4 unchanged
        const dev = h.zeros(ctx);
        h.run([
          deviationOp(h.k, {
            pos: h.u32(new Int32Array(pos)),
            v: h.f32(v),
            vc: c.upload(vc, hd),
            dev,
            kvDim,
            headDim: hd,
            dtype,
            rows: h.rows(len),
            label: `dev${tag}`,
          }),
        ]);
        const one = [new Float32Array(ctx).fill(1)]; // alpha = 1: the score is the deviation itself
        const want = ref.deviationScores(ref.kvStored(v, dtype, g), vc, pos, one, kvDim, len);
        const got = await h.read(dev, len);
        expect(got[4]).toBe(0);
        expect(toleranceRatio(got, want, 1e-5, 1e-4)).toBeLessThan(1);
      },
    );
  });
}
