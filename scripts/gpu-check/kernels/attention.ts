// The attention kernels against ref.attention on random q / K / V: flash decoding (split + combine,
// GPUs, <= FLASH_MAX_ROWS rows), the barrier-free thread attention (software adapters), and attentionOp
// (one workgroup per (head, row): WG 256 for one row, WG 64 for many on GPUs, attend_thread on
// software adapters; also the deviation probe of KV reuse on every adapter).
import { attentionOp } from '../../../src/ops/attention.ts';
import {
  AttentionSplits,
  FLASH_MAX_ROWS,
  flashAttentionOps,
  flashPartBytes,
} from '../../../src/ops/attention-flash.ts';
import { forwardAttention } from '../../../src/ops/attention-kernels.ts';
import { threadAttentionFits, threadAttentionOps } from '../../../src/ops/attention-thread.ts';
import type { KernelContext } from '../../../src/ops/context.ts';
import { type KernelHarness, randn } from '../../../test/helpers/gpu.ts';
import * as ref from '../../../test/reference/ops.ts';
import { compare, type KernelResult, result } from './common.ts';

export interface AttentionShape {
  name: string;
  nHeads: number;
  nKvHeads: number;
  headDim: number;
  /** The position of each row (ctx = max + 1). */
  positions: number[];
}

const heads = {
  smollm2: { nHeads: 9, nKvHeads: 3, headDim: 64 },
  qwen: { nHeads: 14, nKvHeads: 2, headDim: 64 },
  llama1b: { nHeads: 32, nKvHeads: 8, headDim: 64 },
};
const span = (from: number, n: number) => Array.from({ length: n }, (_, i) => from + i);

export const FULL_ATTENTION: AttentionShape[] = [
  { name: 'smollm2 decode @512', ...heads.smollm2, positions: [511] },
  { name: 'qwen2.5 decode @2048', ...heads.qwen, positions: [2047] },
  { name: 'llama-1b decode @2048', ...heads.llama1b, positions: [2047] },
  { name: 'qwen2.5 4 rows', ...heads.qwen, positions: [100, 2047, 7, 600] },
  { name: 'smollm2 prefill chunk', ...heads.smollm2, positions: span(480, 32) },
  { name: 'qwen2.5 prefill chunk', ...heads.qwen, positions: span(1984, 64) },
];

export const DRY_ATTENTION: AttentionShape[] = [
  { name: 'decode @144', ...heads.smollm2, positions: [143] },
  { name: '3 rows, long span', nHeads: 4, nKvHeads: 2, headDim: 16, positions: [0, 300, 5] },
  { name: 'prefill chunk', nHeads: 4, nKvHeads: 1, headDim: 32, positions: span(20, 9) },
];

const ATOL = 2e-5;
const RTOL = 2e-4;

type Path = 'flash' | 'thread' | 'attend';

/** The ops of one attention path on context `k`. */
function pathOps(
  h: KernelHarness,
  k: KernelContext,
  path: Path,
  s: AttentionShape,
  bufs: ReturnType<typeof buffers>,
) {
  const n = s.positions.length;
  const ctx = Math.max(...s.positions) + 1;
  const common = {
    ...bufs.io,
    nHeads: s.nHeads,
    nKvHeads: s.nKvHeads,
    headDim: s.headDim,
    rows: h.rows(n),
    label: path,
  };
  const splits = new AttentionSplits(h.k.device);
  splits.setSpan(ctx);
  if (path === 'flash') {
    return flashAttentionOps(k, {
      ...common,
      part: h.zeros(flashPartBytes(n, s.nHeads, s.headDim) / 4),
      splits,
    });
  }
  const probs = h.zeros(n * s.nHeads * ctx); // [n, nHeads, ctx]
  if (path === 'thread')
    return threadAttentionOps(k, { ...common, scores: probs, ctx, chunks: splits.chunks });
  return [attentionOp(k, { ...common, probs, ctx })];
}

function buffers(h: KernelHarness, s: AttentionShape, q: Float32Array, kc: Float32Array, vc: Float32Array) {
  const n = s.positions.length;
  return {
    io: {
      q: h.f32(q), // [n, nHeads * headDim]
      kc: h.f32(kc), // [ctx, nKvHeads * headDim]
      vc: h.f32(vc), // [ctx, nKvHeads * headDim]
      pos: h.u32(new Int32Array(s.positions)), // [n] i32
      out: h.zeros(n * s.nHeads * s.headDim), // [n, nHeads * headDim]
    },
  };
}

export async function checkAttention(
  h: KernelHarness,
  shapes: AttentionShape[],
  onResult: (r: KernelResult) => void,
): Promise<void> {
  const soft = Boolean(h.k.software);
  for (const s of shapes) {
    const n = s.positions.length;
    const ctx = Math.max(...s.positions) + 1;
    const kvDim = s.nKvHeads * s.headDim;
    const kc = randn(ctx * kvDim, 8); // [ctx, kvDim]
    const vc = randn(ctx * kvDim, 9); // [ctx, kvDim]
    const q = randn(n * s.nHeads * s.headDim, 10, 2); // [n, nHeads * headDim]
    const want = ref.attention(q, kc, vc, s.positions, s).out; // [n, nHeads * headDim]
    const fits = threadAttentionFits(s);
    // What the forward pass picks (src/ops/attention-kernels.ts): thread attention on a software adapter
    // where the heads fit, else flash for a few rows and attentionOp for more.
    const graphPick: Path = forwardAttention({ software: soft } as KernelContext, s, n);
    const runs: { path: Path; software: boolean; variant: string }[] = [];
    if (n <= FLASH_MAX_ROWS) runs.push({ path: 'flash', software: false, variant: 'flash split+combine' });
    if (fits) runs.push({ path: 'thread', software: true, variant: 'thread scores+output' });
    runs.push({ path: 'attend', software: false, variant: n === 1 ? 'attend WG=256' : 'attend WG=64' });
    if (n > 1) runs.push({ path: 'attend', software: true, variant: 'attend_thread' });
    for (const r of runs) {
      const t0 = performance.now();
      const bufs = buffers(h, s, q, kc, vc);
      h.run(pathOps(h, { ...h.k, software: r.software }, r.path, s, bufs));
      const got = await h.read(bufs.io.out, n * s.nHeads * s.headDim);
      // attentionOp is also the reuse probe's kernel on every adapter: selected on its own path.
      const selected = r.path === 'attend' ? n === 1 || r.software === soft : r.path === graphPick;
      const shape = `${s.name}: n=${n} H=${s.nHeads} KV=${s.nKvHeads} hd=${s.headDim} ctx=${ctx}`;
      onResult(
        result(
          { kernel: 'attention', variant: r.variant, selected, shape },
          t0,
          compare(got, want, ATOL, RTOL),
        ),
      );
    }
  }
}
