import { beforeAll, describe, expect, it } from 'vitest';
import { AttentionSplits } from '../../src/ops/attention-flash.ts';
import {
  THREAD_MAX_CHUNKS,
  THREAD_MAX_GROUP,
  THREAD_SPAN_PER_CHUNK,
  threadAttentionFits,
  threadAttentionOps,
} from '../../src/ops/attention-thread.ts';
import { type KernelHarness, kernelHarness, randn, toleranceRatio } from '../helpers/gpu.ts';
import * as ref from '../reference/ops.ts';

const ATOL = 1e-5;
const RTOL = 1e-4;

let h: KernelHarness;
beforeAll(async () => {
  h = await kernelHarness();
});

describe('thread attention (scores + output, the path of software adapters) vs the reference', () => {
  // [rows, H, KV, hd, positions, span the host announces]: exact spans, spans longer than one
  // chunk of 64, rows of different lengths (and lengths not a multiple of 4), GQA and MHA, and a
  // stale (too small) span that makes each scores thread loop over several chunks.
  it.each([
    [1, 9, 3, 64, [143], 144],
    [1, 4, 2, 8, [0], 1],
    [1, 9, 3, 64, [63], 64],
    [1, 9, 3, 64, [64], 65],
    [4, 6, 2, 12, [0, 5, 2, 11], 12],
    [3, 8, 8, 4, [3, 300, 100], 301],
    [2, 4, 1, 128, [200, 77], 1],
    [4, 9, 3, 64, [511, 130, 66, 1], 512],
    [2, 3, 1, 24, [700, 300], 701],
    [1, 2, 2, 256, [1000], 65],
    [2, 16, 1, 8, [90, 40], 91],
    // prefill chunks (software adapters take this path for any row count): a chunk after cached
    // positions, and a whole 128-row chunk from position 0
    [40, 9, 3, 64, Array.from({ length: 40 }, (_, i) => 60 + i), 100],
    [128, 4, 2, 16, Array.from({ length: 128 }, (_, i) => i), 128],
  ])('n=%i H=%i KV=%i hd=%i positions %j span %i', async (n, H, KV, hd, positions, span) => {
    // the scores buffer is [maxRows, H, ctx] with ctx above the longest row, as in the scratch
    const ctx = Math.max(...positions) + 7;
    const kvDim = KV * hd;
    const kc = randn(ctx * kvDim, 8);
    const vc = randn(ctx * kvDim, 9);
    const q = randn(n * H * hd, 10, 2);
    const out = h.zeros(n * H * hd);
    const splits = new AttentionSplits(h.k.device);
    splits.setSpan(span);
    h.run(
      threadAttentionOps(h.k, {
        q: h.f32(q),
        kc: h.f32(kc),
        vc: h.f32(vc),
        pos: h.u32(new Int32Array(positions)),
        scores: h.zeros(n * H * ctx),
        ctx,
        out,
        nHeads: H,
        nKvHeads: KV,
        headDim: hd,
        rows: h.rows(n, Math.max(4, n)),
        chunks: splits.chunks,
        label: 'ta',
      }),
    );
    const expected = ref.attention(q, kc, vc, positions, { nHeads: H, nKvHeads: KV, headDim: hd }).out;
    expect(toleranceRatio(await h.read(out, n * H * hd), expected, ATOL, RTOL)).toBeLessThan(1);
  });

  it('sizes the scores chunks from the span', () => {
    const splits = new AttentionSplits(h.k.device);
    splits.setSpan(0);
    expect(splits.chunks.n).toBe(1);
    splits.setSpan(THREAD_SPAN_PER_CHUNK);
    expect(splits.chunks.n).toBe(1);
    splits.setSpan(THREAD_SPAN_PER_CHUNK + 1);
    expect(splits.chunks.n).toBe(2);
    splits.setSpan(10 ** 9);
    expect(splits.chunks.n).toBe(THREAD_MAX_CHUNKS);
  });

  it(`takes head dimensions that are multiples of 4 and up to ${THREAD_MAX_GROUP} heads per KV head`, () => {
    expect(threadAttentionFits({ nHeads: 9, nKvHeads: 3, headDim: 64 })).toBe(true);
    expect(threadAttentionFits({ nHeads: 9, nKvHeads: 3, headDim: 7 })).toBe(false);
    expect(threadAttentionFits({ nHeads: THREAD_MAX_GROUP * 2, nKvHeads: 1, headDim: 64 })).toBe(false);
    const b = h.zeros(4);
    const args = { q: b, kc: b, vc: b, pos: b, scores: b, out: b, nHeads: 1, nKvHeads: 1, ctx: 1 };
    const splits = new AttentionSplits(h.k.device);
    expect(() =>
      threadAttentionOps(h.k, { ...args, headDim: 7, rows: h.rows(1), chunks: splits.chunks, label: 'x' }),
    ).toThrow(RangeError);
  });
});
