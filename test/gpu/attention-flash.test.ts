import { beforeAll, describe, expect, it } from 'vitest';
import {
  AttentionSplits,
  FLASH_MAX_SPLITS,
  FLASH_SPAN_PER_SPLIT,
  flashAttentionOps,
  flashPartBytes,
} from '../../src/ops/attention-flash.ts';
import { type KernelHarness, kernelHarness, randn, toleranceRatio } from '../helpers/gpu.ts';
import * as ref from '../reference/ops.ts';

const ATOL = 1e-5;
const RTOL = 1e-4;

let h: KernelHarness;
beforeAll(async () => {
  h = await kernelHarness();
});

describe('flash attention (split + combine) vs the reference', () => {
  // [rows, H, KV, hd, positions, span the host announces]: exact spans, a stale (too small) span
  // that makes each workgroup loop over several chunks, and spans past FLASH_MAX_SPLITS chunks.
  it.each([
    [1, 9, 3, 64, [143], 144],
    [1, 4, 2, 8, [0], 1],
    [4, 6, 2, 12, [0, 5, 2, 11], 12],
    [3, 8, 8, 7, [3, 300, 100], 301],
    [2, 4, 1, 130, [200, 77], 1],
    [
      1,
      2,
      2,
      16,
      [FLASH_SPAN_PER_SPLIT * (FLASH_MAX_SPLITS + 3) - 5],
      FLASH_SPAN_PER_SPLIT * (FLASH_MAX_SPLITS + 3),
    ],
    [2, 3, 1, 24, [700, 300], 701],
  ])('n=%i H=%i KV=%i hd=%i positions %j span %i', async (n, H, KV, hd, positions, span) => {
    const ctx = Math.max(...positions) + 1;
    const kvDim = KV * hd;
    const kc = randn(ctx * kvDim, 8);
    const vc = randn(ctx * kvDim, 9);
    const q = randn(n * H * hd, 10, 2);
    const out = h.zeros(n * H * hd);
    const splits = new AttentionSplits(h.k.device);
    splits.setSpan(span);
    h.run(
      flashAttentionOps(h.k, {
        q: h.f32(q),
        kc: h.f32(kc),
        vc: h.f32(vc),
        pos: h.u32(new Int32Array(positions)),
        part: h.zeros(flashPartBytes(n, H, hd) / 4),
        out,
        nHeads: H,
        nKvHeads: KV,
        headDim: hd,
        rows: h.rows(n),
        splits,
        label: 'fa',
      }),
    );
    const expected = ref.attention(q, kc, vc, positions, { nHeads: H, nKvHeads: KV, headDim: hd }).out;
    expect(toleranceRatio(await h.read(out, n * H * hd), expected, ATOL, RTOL)).toBeLessThan(1);
  });

  it('sizes the split count from the span', () => {
    const splits = new AttentionSplits(h.k.device);
    splits.setSpan(0);
    expect(splits.count.n).toBe(1);
    splits.setSpan(FLASH_SPAN_PER_SPLIT);
    expect(splits.count.n).toBe(1);
    splits.setSpan(FLASH_SPAN_PER_SPLIT + 1);
    expect(splits.count.n).toBe(2);
    splits.setSpan(10 ** 6);
    expect(splits.count.n).toBe(FLASH_MAX_SPLITS);
  });

  it('rejects a head dimension above 256', () => {
    const b = h.zeros(4);
    const args = { q: b, kc: b, vc: b, pos: b, part: b, out: b, nHeads: 1, nKvHeads: 1 };
    const splits = new AttentionSplits(h.k.device);
    expect(() =>
      flashAttentionOps(h.k, { ...args, headDim: 257, rows: h.rows(1), splits, label: 'x' }),
    ).toThrow(RangeError);
  });
});
