import { beforeAll, describe, expect, it } from 'vitest';
import { uploadBytes } from '../../src/gpu/buffers.ts';
import { attentionOp } from '../../src/ops/attention.ts';
import { AttentionSplits, flashAttentionOps, flashPartBytes } from '../../src/ops/attention-flash.ts';
import { threadAttentionOps } from '../../src/ops/attention-thread.ts';
import { type KVDtype, kvConvert } from '../../src/util/kv-dtype.ts';
import { q8GroupFor } from '../../src/util/kv-q8.ts';
import { type KernelHarness, kernelHarness, randn, toleranceRatio } from '../helpers/gpu.ts';
import * as ref from '../reference/ops.ts';

const ATOL = 1e-5;
const RTOL = 1e-4;

let h: KernelHarness;
beforeAll(async () => {
  h = await kernelHarness();
});

// Sliding windows (attention_mask.wgsl's firstPos) and soft-capping (capScore), with a score scale
// other than 1/sqrt(hd), in every attention variant against the float64 reference. Windows: shorter
// than some rows and longer than others, 1 (a row sees itself only), a window that cuts a flash
// chunk or a thread span in the middle, and rows with different first positions in one dispatch.
const CASES: [number, number, number, number[], number, number][] = [
  // [H, KV, hd, positions, window, softcap]
  [4, 2, 8, [9], 4, 0],
  [6, 2, 12, [0, 5, 2, 11], 3, 0],
  [4, 1, 16, [200, 77, 5, 150], 100, 0],
  [4, 2, 8, [40, 3], 1, 0],
  [6, 2, 12, [0, 5, 2, 11], 0, 1.5],
  [4, 1, 16, [200, 77, 5, 150], 70, 2],
  [9, 3, 64, [300], 129, 50],
  [8, 4, 8, [0, 5, 2, 11], 3, 1.5],
  [4, 2, 16, [200, 77, 5, 150], 70, 2],
];

type Variant = 'many' | 'one' | 'thread-many' | 'flash' | 'thread';

describe('sliding window + soft-capping in every attention kernel', () => {
  const variants: [Variant, KVDtype][] = [
    ['many', 'f32'],
    ['one', 'f32'],
    ['thread-many', 'f32'],
    ['flash', 'f32'],
    ['thread', 'f32'],
    // the f16 cache's readers (kv_f16.wgsl include swap) with the same masks
    ['one', 'f16'],
    ['thread-many', 'f16'],
    ['flash', 'f16'],
    ['thread', 'f16'],
    // the q8 cache's readers (kv_q8.wgsl) in the heads' groups (q8GroupFor: 8, 12, 16 and 32 here)
    ['many', 'q8'],
    ['one', 'q8'],
    ['thread-many', 'q8'],
    ['flash', 'q8'],
    ['thread', 'q8'],
  ];
  for (const [variant, dtype] of variants) {
    it.each(CASES)(
      `${variant} (${dtype} KV): H=%i KV=%i hd=%i positions %j window %i softcap %d`,
      async (H, KV, hd, positions0, window, softcap) => {
        const positions = variant === 'one' ? positions0.slice(0, 1) : positions0;
        const n = positions.length;
        const ctx = Math.max(...positions) + 3;
        const kvDim = KV * hd;
        const g = q8GroupFor(hd) ?? 0; // q8: the group the cache is stored in
        const kc = ref.kvStored(randn(ctx * kvDim, 8), dtype, g); // [ctx, kvDim] as the cache holds it
        const vc = ref.kvStored(randn(ctx * kvDim, 9), dtype, g);
        const kvBuf = (a: Float32Array) =>
          dtype === 'f32' ? h.f32(a) : uploadBytes(h.k.device, kvConvert(a, 0, dtype, g), `kv.${dtype}`);
        const q = randn(n * H * hd, 10, 3);
        const scale = 0.7 / Math.sqrt(hd);
        const out = h.zeros(n * H * hd);
        const probs = h.zeros(n * H * ctx);
        const splits = new AttentionSplits(h.k.device);
        // a span shorter than the window makes flash / thread workgroups loop over several chunks
        splits.setSpan(variant === 'flash' ? 300 : 70);
        const args = {
          q: h.f32(q),
          kc: kvBuf(kc),
          vc: kvBuf(vc),
          dtype,
          pos: h.u32(new Int32Array(positions)),
          out,
          nHeads: H,
          nKvHeads: KV,
          headDim: hd,
          rows: h.rows(n, 4),
          label: variant,
          scale,
          window,
          softcap,
        };
        if (variant === 'flash') {
          h.run(flashAttentionOps(h.k, { ...args, part: h.zeros(flashPartBytes(n, H, hd) / 4), splits }));
        } else if (variant === 'thread') {
          h.run(threadAttentionOps(h.k, { ...args, scores: probs, ctx, chunks: splits.chunks }));
        } else {
          const k = { ...h.k, software: variant === 'thread-many' };
          h.run([attentionOp(k, { ...args, probs, ctx })]);
        }
        const want = ref.attention(q, kc, vc, positions, {
          nHeads: H,
          nKvHeads: KV,
          headDim: hd,
          scale,
          window,
          softcap,
        });
        expect(toleranceRatio(await h.read(out, n * H * hd), want.out, ATOL, RTOL)).toBeLessThan(1);
        // the probe's kernel leaves the weights, 0 before the window (the deviation score reads them)
        if (variant === 'many' || variant === 'one' || variant === 'thread-many') {
          const got = await h.read(probs, n * H * ctx);
          const wantProbs = new Float32Array(n * H * ctx);
          for (const [r, heads] of want.probs.entries())
            for (const [hh, p] of heads.entries()) wantProbs.set(Float32Array.from(p), (r * H + hh) * ctx);
          expect(toleranceRatio(got, wantProbs, ATOL, RTOL)).toBeLessThan(1);
          if (window > 0 && positions[0] + 1 > window) expect(got[0]).toBe(0);
        }
      },
    );
  }

  it('the reference masks: a window of W weighs only the last W positions; a cap bounds scores', () => {
    const hd = 4;
    const kc = randn(10 * hd, 1, 4);
    const vc = randn(10 * hd, 2);
    const q = randn(hd, 3, 4);
    const full = ref.attention(q, kc, vc, [9], { nHeads: 1, nKvHeads: 1, headDim: hd });
    const win = ref.attention(q, kc, vc, [9], { nHeads: 1, nKvHeads: 1, headDim: hd, window: 3 });
    expect(Array.from(win.probs[0][0].slice(0, 7))).toEqual([0, 0, 0, 0, 0, 0, 0]);
    expect(win.probs[0][0].slice(7).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    expect(full.probs[0][0][0]).toBeGreaterThan(0);
    // window >= len: the full attention
    const wide = ref.attention(q, kc, vc, [9], { nHeads: 1, nKvHeads: 1, headDim: hd, window: 10 });
    expect(Array.from(wide.out)).toEqual(Array.from(full.out));
    // a tiny cap flattens the weights towards uniform
    const capped = ref.attention(q, kc, vc, [9], { nHeads: 1, nKvHeads: 1, headDim: hd, softcap: 1e-3 });
    for (const p of capped.probs[0][0]) expect(p).toBeCloseTo(0.1, 3);
  });
});
