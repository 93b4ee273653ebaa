// The kernels with one path each against their references: RoPE on q and k (also with longrope's
// query scale and a partial rotary), RoPE with the K/V cache write (rope_kv), Qwen3's per-head q/k
// rmsnorm (rmsnorm_heads), the K/V scatter, the reuse patch (kvpatch: gather, re-rotate, scatter), the
// deviation and score passes (kvscore), rmsnorm, the embedding gather per weight format, argmax.
import { uploadRopeTable } from '../../../src/llama/rope-table.ts';
import { argmaxOp } from '../../../src/ops/argmax.ts';
import { gatherRowsOps } from '../../../src/ops/embed.ts';
import { kvScatterOp } from '../../../src/ops/kvcache.ts';
import { deviationOp, kvPatchOp, scoreOp } from '../../../src/ops/kvpatch.ts';
import { rmsnormHeadsOp, rmsnormOp } from '../../../src/ops/rmsnorm.ts';
import { ropeOp } from '../../../src/ops/rope.ts';
import { type KernelHarness, randn } from '../../../test/helpers/gpu.ts';
import { weightParts } from '../../../test/helpers/weight-parts.ts';
import * as ref from '../../../test/reference/ops.ts';
import { ALL_FORMATS, compare, type KernelResult, result } from './common.ts';

/** The model dimensions the checks use: a real model's in the full run, small ones in the rehearsal. */
export interface MiscShape {
  name: string;
  hidden: number;
  nHeads: number;
  nKvHeads: number;
  headDim: number;
  vocab: number;
  /** Positions of the rows (the cache holds max + 1 positions). */
  positions: number[];
  /** Head size of the per-head q/k rmsnorm (Qwen3's 128). */
  normHeadDim: number;
}

export const FULL_MISC: MiscShape = {
  name: 'qwen2.5-0.5b',
  hidden: 896,
  nHeads: 14,
  nKvHeads: 2,
  headDim: 64,
  vocab: 151936,
  positions: [5, 2047, 0, 1024, 77, 1500, 3, 640],
  normHeadDim: 128,
};

export const DRY_MISC: MiscShape = {
  name: 'small',
  hidden: 96,
  nHeads: 4,
  nKvHeads: 2,
  headDim: 16,
  vocab: 1000,
  positions: [5, 150, 0],
  normHeadDim: 16,
};

const THETA = 1_000_000;

export async function checkMisc(
  h: KernelHarness,
  s: MiscShape,
  onResult: (r: KernelResult) => void,
): Promise<void> {
  const only = { variant: 'only path', selected: true };
  const n = s.positions.length;
  const ctx = Math.max(...s.positions) + 1;
  const qDim = s.nHeads * s.headDim;
  const kvDim = s.nKvHeads * s.headDim;
  const rows = h.rows(n);
  const pos = h.u32(new Int32Array(s.positions)); // [n] i32
  const table = uploadRopeTable(h.k.device, ctx, s.headDim, THETA); // [ctx, headDim / 2] (cos, sin)
  const dims = `${s.name}: n=${n} H=${s.nHeads} KV=${s.nKvHeads} hd=${s.headDim} ctx=${ctx}`;
  const q = randn(n * qDim, 21); // [n, qDim]
  const kx = randn(n * kvDim, 22); // [n, kvDim]
  const v = randn(n * kvDim, 23); // [n, kvDim]
  const kc = randn(ctx * kvDim, 24); // [ctx, kvDim]
  const vc = randn(ctx * kvDim, 25); // [ctx, kvDim]
  const [eq, ek] = [Float32Array.from(q), Float32Array.from(kx)];
  ref.rope(eq, s.positions, { nHeads: s.nHeads, headDim: s.headDim, rowStride: qDim, theta: THETA });
  ref.rope(ek, s.positions, { nHeads: s.nKvHeads, headDim: s.headDim, rowStride: kvDim, theta: THETA });
  const rope = { pos, table, nHeads: s.nHeads, headDim: s.headDim, rowStride: qDim, rows };

  {
    const t0 = performance.now();
    const [qb, kb] = [h.f32(q), h.f32(kx)];
    h.run([
      ropeOp(h.k, { ...rope, x: qb, second: { x: kb, nHeads: s.nKvHeads, rowStride: kvDim }, label: 'rope' }),
    ]);
    const cq = compare(await h.read(qb, n * qDim), eq, 1e-5, 1e-4);
    const ck = compare(await h.read(kb, n * kvDim), ek, 1e-5, 1e-4);
    onResult(result({ kernel: 'rope q+k', ...only, shape: dims }, t0, cq, ck));
  }
  {
    // Longrope's attention factor on the first pairs of the queries, over a partial rotary (the
    // pairs past rotaryDim / 2 keep angle 0), as Phi-3 / Phi-4-mini run it.
    const t0 = performance.now();
    const rotaryDim = (s.headDim * 3) / 4;
    const pairs = s.headDim / 8;
    const [qb, kb] = [h.f32(q), h.f32(kx)];
    const partial = uploadRopeTable(h.k.device, ctx, s.headDim, THETA, undefined, rotaryDim);
    const second = { x: kb, nHeads: s.nKvHeads, rowStride: kvDim };
    const qScale = { factor: 1.7, pairs };
    h.run([ropeOp(h.k, { ...rope, table: partial, x: qb, second, qScale, label: 'rope_scaled' })]);
    const ro = { headDim: s.headDim, theta: THETA, rotaryDim };
    const [sq, sk] = [Float32Array.from(q), Float32Array.from(kx)];
    ref.rope(sq, s.positions, { ...ro, nHeads: s.nHeads, rowStride: qDim });
    ref.rope(sk, s.positions, { ...ro, nHeads: s.nKvHeads, rowStride: kvDim });
    for (let i = 0; i < sq.length; i++) if (i % (s.headDim / 2) < pairs) sq[i] *= qScale.factor;
    const cq = compare(await h.read(qb, n * qDim), sq, 1e-5, 1e-4);
    const ck = compare(await h.read(kb, n * kvDim), sk, 1e-5, 1e-4);
    const shape = `${dims} rotary=${rotaryDim} qScale pairs=${pairs}`;
    onResult(result({ kernel: 'rope q+k, query scale, partial rotary', ...only, shape }, t0, cq, ck));
  }
  {
    // Qwen3's q_norm / k_norm: every head of q and k normalized in place, one dispatch.
    const t0 = performance.now();
    const hd = s.normHeadDim;
    const [sq, sk] = [s.nHeads * hd, s.nKvHeads * hd];
    const qn = randn(n * sq, 3, 2); // [n, nHeads * hd]
    const kn = randn(n * sk, 4, 2); // [n, nKvHeads * hd]
    const wq = randn(hd, 5).map((v) => 1 + 0.3 * v); // [hd]
    const wk = randn(hd, 6).map((v) => 1 + 0.3 * v); // [hd]
    const [qb, kb] = [h.f32(qn), h.f32(kn)];
    h.run([
      rmsnormHeadsOp(h.k, {
        x: qb,
        w: h.f32(wq),
        nHeads: s.nHeads,
        rowStride: sq,
        second: { x: kb, w: h.f32(wk), nHeads: s.nKvHeads, rowStride: sk },
        headDim: hd,
        eps: 1e-6,
        rows,
        label: 'qk_norm',
      }),
    ]);
    const cq = compare(await h.read(qb, n * sq), ref.rmsnorm(qn, wq, hd, 1e-6), 1e-5, 1e-4);
    const ck = compare(await h.read(kb, n * sk), ref.rmsnorm(kn, wk, hd, 1e-6), 1e-5, 1e-4);
    const shape = `n=${n} H=${s.nHeads} KV=${s.nKvHeads} hd=${hd}`;
    onResult(result({ kernel: 'rmsnorm_heads (q/k norm)', ...only, shape }, t0, cq, ck));
  }
  // The caches after writing the rotated keys and the values at each row's position.
  const [wantKc, wantVc] = [Float32Array.from(kc), Float32Array.from(vc)];
  s.positions.forEach((p, r) => {
    wantKc.set(ek.subarray(r * kvDim, (r + 1) * kvDim), p * kvDim);
    wantVc.set(v.subarray(r * kvDim, (r + 1) * kvDim), p * kvDim);
  });
  {
    const t0 = performance.now();
    const [qb, kb, kcb, vcb] = [h.f32(q), h.f32(kx), h.f32(kc), h.f32(vc)];
    const second = { x: kb, nHeads: s.nKvHeads, rowStride: kvDim };
    h.run([
      ropeOp(h.k, { ...rope, x: qb, second, cache: { v: h.f32(v), kc: kcb, vc: vcb }, label: 'rope_kv' }),
    ]);
    const cq = compare(await h.read(qb, n * qDim), eq, 1e-5, 1e-4);
    const ck = compare(await h.read(kcb, ctx * kvDim), wantKc, 1e-5, 1e-4);
    const cv = compare(await h.read(vcb, ctx * kvDim), wantVc, 0, 0);
    onResult(result({ kernel: 'rope_kv (RoPE + cache write)', ...only, shape: dims }, t0, cq, ck, cv));
  }
  {
    const t0 = performance.now();
    const [kcb, vcb] = [h.f32(kc), h.f32(vc)];
    h.run([
      kvScatterOp(h.k, {
        pos,
        k: h.f32(ek),
        v: h.f32(v),
        kc: kcb,
        vc: vcb,
        kvDim,
        headDim: s.headDim,
        rows,
        label: 'kv',
      }),
    ]);
    const ck = compare(await h.read(kcb, ctx * kvDim), wantKc, 0, 0);
    const cv = compare(await h.read(vcb, ctx * kvDim), wantVc, 0, 0);
    onResult(result({ kernel: 'kv scatter', ...only, shape: dims }, t0, ck, cv));
  }
  {
    // Rows of a source cache to new positions, keys re-rotated by the shift (forward and backward).
    const t0 = performance.now();
    const T = n + 2;
    const ksrc = randn(T * kvDim, 31); // [T, kvDim]
    const vsrc = randn(T * kvDim, 32); // [T, kvDim]
    const rowmap: [number, number, number][] = s.positions.map((p, r) => [
      (r * 3) % T,
      p,
      (p + 7 * r + 1) % ctx,
    ]);
    const [kcb, vcb] = [h.f32(kc), h.f32(vc)];
    h.run([
      kvPatchOp(h.k, {
        rowmap: h.u32(new Int32Array(rowmap.flatMap(([a, b, c]) => [a, b, c, 0]))), // [n, 4] i32
        table,
        ksrc: h.f32(ksrc),
        vsrc: h.f32(vsrc),
        kc: kcb,
        vc: vcb,
        nKvHeads: s.nKvHeads,
        headDim: s.headDim,
        rows,
        label: 'patch',
      }),
    ]);
    const [pk, pv] = [Float32Array.from(kc), Float32Array.from(vc)];
    ref.kvPatch(rowmap, ksrc, vsrc, pk, pv, { nKvHeads: s.nKvHeads, headDim: s.headDim, theta: THETA });
    const ck = compare(await h.read(kcb, ctx * kvDim), pk, 1e-5, 1e-4);
    const cv = compare(await h.read(vcb, ctx * kvDim), pv, 0, 0);
    onResult(result({ kernel: 'kvpatch', ...only, shape: dims }, t0, ck, cv));
  }
  {
    // score[j] = mean_h probs[h, j] * |v[j] - vc[j]|_1 over the first len positions.
    const t0 = performance.now();
    const len = Math.min(ctx, 64 * Math.ceil(n / 2) + 3);
    const p = Array.from({ length: len }, (_, i) => i);
    const vl = randn(len * kvDim, 33); // [len, kvDim]
    const probs = randn(s.nHeads * ctx, 34).map(Math.abs); // [nHeads, ctx]
    const dev = h.zeros(ctx); // [ctx]
    const score = h.zeros(len); // [len]
    const lenRows = h.rows(len);
    h.run([
      deviationOp(h.k, {
        pos: h.u32(new Int32Array(p)),
        v: h.f32(vl),
        vc: h.f32(vc),
        dev,
        kvDim,
        headDim: s.headDim,
        rows: lenRows,
        label: 'dev',
      }),
      scoreOp(h.k, { probs: h.f32(probs), dev, score, nHeads: s.nHeads, ctx, len: lenRows, label: 'score' }),
    ]);
    const perHead = Array.from({ length: s.nHeads }, (_, hh) => probs.subarray(hh * ctx, (hh + 1) * ctx));
    const want = ref.deviationScores(vl, vc, p, perHead, kvDim, len);
    onResult(
      result(
        { kernel: 'kvscore (deviation + score)', ...only, shape: `${s.name}: len=${len} kvDim=${kvDim}` },
        t0,
        compare(await h.read(score, len), want, 1e-5, 1e-4),
      ),
    );
  }
  {
    const t0 = performance.now();
    const x = randn(n * s.hidden, 41, 3); // [n, hidden]
    const w = randn(s.hidden, 42); // [hidden]
    const out = h.zeros(n * s.hidden);
    h.run([rmsnormOp(h.k, { x: h.f32(x), w: h.f32(w), out, dim: s.hidden, eps: 1e-6, rows, label: 'norm' })]);
    const want = ref.rmsnorm(x, w, s.hidden, 1e-6);
    onResult(
      result(
        { kernel: 'rmsnorm', ...only, shape: `n=${n} dim=${s.hidden}` },
        t0,
        compare(await h.read(out, n * s.hidden), want, 1e-5, 1e-4),
      ),
    );
  }
  // The embedding table: the vocabulary's first 1,024 rows in the full run (a whole 151,936-row table in 9
  // formats costs minutes of CPU quantization), with ids at both ends of it.
  const embRows = Math.min(s.vocab, 1024);
  const ids = s.positions.map((p, r) => (r === 0 ? embRows - 1 : (p * 31 + r) % embRows));
  for (const format of ALL_FORMATS) {
    if (format === 'q6k' && s.hidden % 256 !== 0) continue;
    const t0 = performance.now();
    const { parts, exact } = weightParts(h, randn(embRows * s.hidden, 51, 0.5), s.hidden, 2, format);
    const out = h.zeros(n * s.hidden); // [n, hidden]
    h.run(gatherRowsOps(h.k, { idx: h.u32(ids), table: parts, out, dim: s.hidden, rows, label: 'embed' }));
    const want = ref.gatherRows(exact, s.hidden, ids);
    onResult(
      result(
        { kernel: `embed ${format}`, ...only, shape: `n=${n} rows=${embRows} dim=${s.hidden} parts=2` },
        t0,
        compare(await h.read(out, n * s.hidden), want, 0, 0),
      ),
    );
  }
  {
    const t0 = performance.now();
    const logits = randn(n * s.vocab, 61, 5); // [n, vocab]
    logits[s.vocab - 1] = 100; // row 0: the winner at the last index
    if (n > 1) logits[s.vocab + 3] = logits[s.vocab + 9] = 100; // row 1: a tie, lowest index wins
    const out = h.zeros(n);
    h.run([argmaxOp(h.k, { logits: h.f32(logits), out, vocab: s.vocab, rows, label: 'argmax' })]);
    const got = Array.from(await h.readU32(out, n));
    const want = ref.argmax(logits, s.vocab);
    const wrong = got.filter((g, i) => g !== want[i]).length;
    onResult(
      result({ kernel: 'argmax', ...only, shape: `n=${n} vocab=${s.vocab}` }, t0, {
        maxAbsErr: wrong,
        tolRatio: wrong > 0 ? Infinity : 0,
      }),
    );
  }
}
