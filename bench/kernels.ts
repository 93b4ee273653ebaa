// Kernel sweep: time of the matmul kernels at the model's shapes, median of reps, each launch in its
// own submit, the weight formats alternated per shape; `cpu ms` is the process CPU time (all driver
// threads), which a loaded machine disturbs less than wall time. usage:
// node --import tsx bench/kernels.ts [--rows 1,128] [--reps 5] [--formats f32,bf16,q4,q8]
//   [--shapes smollm2|stories15m|qwen2.5-0.5b] [--split thread,subgroup,shared]
// --split alternates the GEMV work splits (src/ops/matmul.ts gemvSplit; default: the adapter's).
import { parseArgs } from 'node:util';
import { storageBuffer, uploadU32 } from '../src/gpu/buffers.ts';
import { RowCount, submitOps } from '../src/gpu/op.ts';
import { type GemvSplit, gemvSplit, matmulOps } from '../src/ops/matmul.ts';
import { isQuantFormat, quantLayout, type WeightFormat } from '../src/ops/weight-format.ts';
import { benchKernels } from './gpu.ts';

const { values } = parseArgs({
  options: {
    rows: { type: 'string', default: '1,128' },
    reps: { type: 'string', default: '5' },
    formats: { type: 'string', default: 'bf16' },
    shapes: { type: 'string', default: 'smollm2' },
    split: { type: 'string' },
  },
});
const { device, k } = await benchKernels();
const splits = (values.split ?? gemvSplit(k)).split(',') as GemvSplit[];
for (const s of splits)
  if (!['thread', 'subgroup', 'shared'].includes(s)) throw new Error('--split: thread, subgroup, shared');
// [name, out, K]
const SHAPES: Record<string, [string, number, number][]> = {
  smollm2: [
    ['q/o 576x576', 576, 576],
    ['gate 1536x576', 1536, 576],
    ['down 576x1536', 576, 1536],
    ['lm_head 49152x576', 49152, 576],
  ],
  stories15m: [
    ['q/o 288x288', 288, 288],
    ['gate 768x288', 768, 288],
    ['down 288x768', 288, 768],
    ['lm_head 32000x288', 32000, 288],
  ],
  'qwen2.5-0.5b': [
    ['q/o 896x896', 896, 896],
    ['gate 4864x896', 4864, 896],
    ['down 896x4864', 896, 4864],
    ['lm_head part 37984x896', 37984, 896], // a quarter: the whole head exceeds one BF16 binding
  ],
};
const shapes = SHAPES[values.shapes];
if (!shapes) throw new Error(`--shapes: one of ${Object.keys(SHAPES).join(', ')}`);
const formats = values.formats.split(',') as WeightFormat[];
/** Words of a [out, K] weight in `format`; every word 0x3c003c00 (scales 1.0, bf16 ~1.0). */
function weightWords(format: WeightFormat, out: number, K: number): Uint32Array {
  if (isQuantFormat(format)) return new Uint32Array(quantLayout(out, K, format).words).fill(0x3c003c00);
  if (format === 'bf16' || format === 'f16') return new Uint32Array(out * Math.ceil(K / 2)).fill(0x3c003c00);
  if (format === 'f32') return new Uint32Array(out * K).fill(0x3f800000);
  throw new Error(`--formats: f32, bf16, f16 or a quantized format (got ${format})`);
}
const reps = Number(values.reps);
console.log(`subgroup size: ${k.subgroupSize ?? 'none'}, software adapter: ${k.software}`);
console.log('shape                format   split    rows  wall ms   GFLOP/s   cpu ms');
for (const n of values.rows.split(',').map(Number)) {
  const rows = new RowCount(device, n, 'rows');
  rows.set(n);
  // The LM head only ever sees the logit rows (a few), never a prefill's rows.
  for (const [name, out, K] of shapes.filter(([name]) => n <= 8 || !name.startsWith('lm_head')))
    for (const format of formats)
      for (const split of splits) {
        const w = uploadU32(device, weightWords(format, out, K), 'w');
        const x = storageBuffer(device, n * K * 4, 'x');
        const y = storageBuffer(device, n * out * 4, 'y');
        const ops = matmulOps(k, {
          x,
          w: [{ buffer: w, rowStart: 0, rows: out, format }],
          y,
          K,
          outStride: out,
          rows,
          label: name,
          split,
        });
        const times: number[] = [];
        const cpu: number[] = [];
        for (let i = 0; i <= reps; i++) {
          const t = performance.now();
          const c = process.cpuUsage();
          submitOps(device, ops);
          await device.queue.onSubmittedWorkDone();
          const dc = process.cpuUsage(c);
          if (i > 0) times.push(performance.now() - t);
          if (i > 0) cpu.push((dc.user + dc.system) / 1000);
        }
        const ms = times.sort((a, b) => a - b)[times.length >> 1];
        const cms = cpu.sort((a, b) => a - b)[cpu.length >> 1];
        const gflops = (2 * n * out * K) / (ms * 1e6);
        console.log(
          `${name.padEnd(20)} ${format.padEnd(8)} ${split.padEnd(8)} ${String(n).padStart(4)} ${ms.toFixed(2).padStart(8)} ${gflops.toFixed(2).padStart(8)} ${cms.toFixed(2).padStart(8)}`,
        );
        for (const b of [w, x, y]) b.destroy();
      }
}
device.destroy();
