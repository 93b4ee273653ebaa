// Attention kernel sweep: the probe kernel (attention.wgsl, one workgroup per (head, row), weights
// kept) against flash attention (attention_flash.wgsl, split + combine) and the software decode path
// (attention_thread.wgsl, scores + output, no barrier) at a model's head shape, median and min of
// reps, each launch in its own submit, the kernels alternated.
// usage: node --import tsx bench/attention.ts [--shape smollm2|stories260K|stories15m] [--rows 1,128]
//        [--len 144] [--reps 7]   (VK_ICD_FILENAMES picks the adapter: lavapipe or SwiftShader)
import { parseArgs } from 'node:util';
import { storageBuffer, uploadU32 } from '../src/gpu/buffers.ts';
import { type Op, RowCount, submitOps } from '../src/gpu/op.ts';
import { attentionOp } from '../src/ops/attention.ts';
import { AttentionSplits, flashAttentionOps, flashPartBytes } from '../src/ops/attention-flash.ts';
import { threadAttentionFits, threadAttentionOps } from '../src/ops/attention-thread.ts';
import { benchKernels } from './gpu.ts';

const { values } = parseArgs({
  options: {
    shape: { type: 'string', default: 'smollm2' },
    rows: { type: 'string', default: '1,128' },
    len: { type: 'string', default: '144' },
    reps: { type: 'string', default: '7' },
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
const len = Number(values.len);
const reps = Number(values.reps);
const ctx = len;
const kc = storageBuffer(device, ctx * KV * hd * 4, 'kc');
const vc = storageBuffer(device, ctx * KV * hd * 4, 'vc');

async function time(ops: Op[]): Promise<{ med: number; min: number }> {
  const t: number[] = [];
  for (let i = 0; i <= reps; i++) {
    const t0 = performance.now();
    submitOps(device, ops);
    await device.queue.onSubmittedWorkDone();
    if (i > 0) t.push(performance.now() - t0);
  }
  t.sort((a, b) => a - b);
  return { med: t[t.length >> 1], min: t[0] };
}

console.log(`${gpu.adapterName}\nshape ${values.shape} (H ${H}, KV ${KV}, hd ${hd}), attended length ${len}`);
console.log('rows  kernel   med ms   min ms');
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
  const shape = { q, kc, vc, pos, out, nHeads: H, nKvHeads: KV, headDim: hd, rows };
  const probe = [attentionOp(k, { ...shape, probs, ctx, label: 'probe' })];
  const flash = flashAttentionOps(k, { ...shape, part, splits, label: 'flash' });
  const kernels: [string, Op[]][] = [
    ['probe', probe],
    ['flash', flash],
  ];
  if (threadAttentionFits({ nHeads: H, nKvHeads: KV, headDim: hd }))
    kernels.push([
      'thread',
      threadAttentionOps(k, { ...shape, scores: probs, ctx, chunks: splits.chunks, label: 'thread' }),
    ]);
  for (let round = 0; round < 2; round++) {
    for (const [name, ops] of kernels) {
      const r = await time(ops);
      if (round === 1)
        console.log(
          `${String(n).padStart(4)}  ${name.padEnd(6)} ${r.med.toFixed(3).padStart(8)} ${r.min.toFixed(3).padStart(8)}`,
        );
    }
  }
}
device.destroy();
