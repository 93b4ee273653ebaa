// Kernel sweep: time of the matmul kernels at the model's shapes (BF16 weights), median of reps,
// each launch in its own submit; `cpu ms` is the process CPU time (all driver threads), which a
// loaded machine disturbs less than wall time. usage: node --import tsx bench/kernels.ts [--rows 1,128] [--reps 5]
import { parseArgs } from 'node:util';
import { storageBuffer, uploadU32 } from '../src/gpu/buffers.ts';
import { RowCount, submitOps } from '../src/gpu/op.ts';
import { matmulOps } from '../src/ops/matmul.ts';
import { benchKernels } from './gpu.ts';

const { values } = parseArgs({
  options: { rows: { type: 'string', default: '1,128' }, reps: { type: 'string', default: '5' } },
});
const { device, k } = await benchKernels();
// SmolLM2-135M: [name, out, K]
const shapes: [string, number, number][] = [
  ['q/o 576x576', 576, 576],
  ['gate 1536x576', 1536, 576],
  ['down 576x1536', 576, 1536],
  ['lm_head 49152x576', 49152, 576],
];
const reps = Number(values.reps);
console.log('shape                rows  wall ms   GFLOP/s   cpu ms');
for (const n of values.rows.split(',').map(Number)) {
  const rows = new RowCount(device, n, 'rows');
  rows.set(n);
  for (const [name, out, K] of shapes) {
    const w = uploadU32(device, new Uint32Array((out * K) / 2).fill(0x3f803f80), 'w');
    const x = storageBuffer(device, n * K * 4, 'x');
    const y = storageBuffer(device, n * out * 4, 'y');
    const ops = matmulOps(k, {
      x,
      w: [{ buffer: w, rowStart: 0, rows: out, format: 'bf16' }],
      y,
      K,
      outStride: out,
      rows,
      label: name,
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
      `${name.padEnd(20)} ${String(n).padStart(4)} ${ms.toFixed(2).padStart(8)} ${gflops.toFixed(2).padStart(8)} ${cms.toFixed(2).padStart(8)}`,
    );
    for (const b of [w, x, y]) b.destroy();
  }
}
device.destroy();
