// Attention kernel sweep: the probe kernel (attention.wgsl, one workgroup per (head, row), weights
// kept) against flash attention (attention_flash.wgsl, split + combine) and the software decode path
// (attention_thread.wgsl, scores + output, no barrier) at a model's head shape, median and min of
// reps, each launch in its own submit, the kernels and K/V dtypes alternated round by round (ratios
// against the first dtype come from the same run; the minimum is the figure least moved by other load).
// usage: node --import tsx bench/attention.ts [--shape smollm2|stories260K|stories15m] [--rows 1,128]
//        [--len 144,1024] [--kv f32,f16] [--kernels probe,flash,thread] [--reps 7] [--rounds 3]
//        (VK_ICD_FILENAMES picks the adapter: lavapipe or SwiftShader)
import { parseArgs } from 'node:util';
import { storageBuffer, uploadU32 } from '../src/gpu/buffers.ts';
import { type Op, RowCount, submitOps } from '../src/gpu/op.ts';
import { attentionOp } from '../src/ops/attention.ts';
import { AttentionSplits, flashAttentionOps, flashPartBytes } from '../src/ops/attention-flash.ts';
import { threadAttentionFits, threadAttentionOps } from '../src/ops/attention-thread.ts';
import { checkKVDtype, type KVDtype, kvBytes } from '../src/util/kv-dtype.ts';
import { q8GroupFor } from '../src/util/kv-q8.ts';
import { benchKernels } from './gpu.ts';

const { values } = parseArgs({
  options: {
    shape: { type: 'string', default: 'smollm2' },
    rows: { type: 'string', default: '1,128' },
    len: { type: 'string', default: '144' },
    kv: { type: 'string', default: 'f32,f16' },
    kernels: { type: 'string', default: 'probe,flash,thread' },
    reps: { type: 'string', default: '7' },
    rounds: { type: 'string', default: '3' },
  },
});
// [H, KV, hd]
const shapes: Record<string, [number, number, number]> = {
  smollm2: [9, 3, 64],
  stories260K: [8, 4, 8],
  stories15m: [6, 6, 48],
};
const [H, KV, hd] = shapes[values.shape] ?? shapes.smollm2;
const { gpu, device, k } = await benchKernels();
const reps = Number(values.reps);
const wanted = new Set(values.kernels.split(','));
const rounds = Number(values.rounds);
const dtypes = values.kv.split(',').map((d) => {
  checkKVDtype(d, '--kv');
  return d;
});

/** ms of each of `reps` launches (after one more, not counted). */
async function time(ops: Op[]): Promise<number[]> {
  const t: number[] = [];
  for (let i = 0; i <= reps; i++) {
    const t0 = performance.now();
    submitOps(device, ops);
    await device.queue.onSubmittedWorkDone();
    if (i > 0) t.push(performance.now() - t0);
  }
  return t;
}

const median = (t: number[]) => [...t].sort((a, b) => a - b)[t.length >> 1];

console.log(
  `${gpu.adapterName}\nshape ${values.shape} (H ${H}, KV ${KV}, hd ${hd}); K/V ${dtypes.join(', ')}`,
);
console.log(
  `${rounds} interleaved rounds of ${reps} launches: the median and the minimum (the launch least disturbed`,
);
console.log(`by other processes); ratios against ${dtypes[0]}`);
console.log('   len  rows  kernel  kv   med ms   ratio   min ms   ratio');
for (const len of values.len.split(',').map(Number)) {
  const ctx = len;
  for (const n of values.rows.split(',').map(Number)) {
    const rows = new RowCount(device, n, 'rows');
    rows.set(n);
    // rows at the last n positions of the span (decode: the one new position)
    const pos = uploadU32(
      device,
      Int32Array.from({ length: n }, (_, i) => len - n + i),
      'pos',
    );
    const q = storageBuffer(device, n * H * hd * 4, 'q');
    const out = storageBuffer(device, n * H * hd * 4, 'out');
    const probs = storageBuffer(device, n * H * ctx * 4, 'probs');
    const part = storageBuffer(device, flashPartBytes(n, H, hd), 'part');
    const splits = new AttentionSplits(device);
    splits.setSpan(len);
    const kernels: { name: string; dtype: KVDtype; ops: Op[]; ms: number[] }[] = [];
    for (const dtype of dtypes) {
      const bytes = kvBytes(dtype, ctx * KV * hd, q8GroupFor(hd) ?? 0);
      const kc = storageBuffer(device, bytes, 'kc'); // [ctx, KV * hd] of dtype (zeros)
      const vc = storageBuffer(device, bytes, 'vc');
      const shape = { q, kc, vc, dtype, pos, out, nHeads: H, nKvHeads: KV, headDim: hd, rows };
      const add = (name: string, ops: Op[]) => wanted.has(name) && kernels.push({ name, dtype, ops, ms: [] });
      add('probe', [attentionOp(k, { ...shape, probs, ctx, label: 'probe' })]);
      add('flash', flashAttentionOps(k, { ...shape, part, splits, label: 'flash' }));
      if (threadAttentionFits({ nHeads: H, nKvHeads: KV, headDim: hd }))
        add(
          'thread',
          threadAttentionOps(k, { ...shape, scores: probs, ctx, chunks: splits.chunks, label: 'thread' }),
        );
    }
    for (const x of kernels) await time(x.ops); // compile and warm
    for (let round = 0; round < rounds; round++) for (const x of kernels) x.ms.push(...(await time(x.ops))); // every launch
    for (const x of kernels) {
      const base = kernels.find((b) => b.name === x.name && b.dtype === dtypes[0])!;
      const [med, min] = [median(x.ms), Math.min(...x.ms)];
      const cols = [med, med / median(base.ms), min, min / Math.min(...base.ms)];
      console.log(
        `${String(len).padStart(6)}  ${String(n).padStart(4)}  ${x.name.padEnd(6)}  ${x.dtype}  ${cols.map((c, i) => c.toFixed(i % 2 ? 2 : 3).padStart(i % 2 ? 6 : 7)).join('  ')}`,
      );
    }
  }
}
device.destroy();
