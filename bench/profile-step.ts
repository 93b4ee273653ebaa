// Per-op timestamps of one decode step (at position [position], default 128, after an 8-token
// prefill: the positions in between hold zeros, which times the same as real K/V), the runner's op
// list in one submit with a timestamp pair around every op, mean of [reps] steps, summed per op kind,
// K/V stored as [kv] (f32 | f16 | q8; checkouts older than kvDtype ignore it):
//   node --import tsx bench/profile-step.ts <model> [reps] [kv] [position]
// `kvshare bench --profile` prints the same for the current code. It loads the model with loadRunner
// (streaming uploads) where the checkout has it and with loadModelFiles + LlamaRunner.build before, and
// reads the runner's op list either way, so it also runs in older checkouts (copy it into their bench/),
// e.g. a88f259, which has no profiler: the README's before/after profile.
import { acquireDevice } from '../src/gpu/device.ts';
import { nodeShaderLibrary } from '../src/gpu/shaders-node.ts';
import { LlamaRunner } from '../src/llama/runner.ts';
import { loadModelFiles } from '../src/model/load.ts';

if (!process.env.VK_ICD_FILENAMES) process.env.VK_ICD_FILENAMES = '/usr/share/vulkan/icd.d/lvp_icd.json';
const mod = await import('webgpu');
Object.assign(globalThis, mod.globals);
const gpuApi = mod.create(['disable-dawn-features=timestamp_quantization']);
const orig = GPUAdapter.prototype.requestDevice;
GPUAdapter.prototype.requestDevice = function (d?: GPUDeviceDescriptor) {
  return orig.call(this, { ...d, requiredFeatures: [...(d?.requiredFeatures ?? []), 'timestamp-query'] });
};
const gpu = await acquireDevice(gpuApi);
const device = gpu.device;
const kvDtype = process.argv[4] ?? 'f32';
const position = Number(process.argv[5] ?? 128);
const runnerOpts = { contextLength: position + 72, kvDtype } as never;
const loadRunner = await import('../src/llama/load-runner.ts').then(
  (m) => m.loadRunner,
  () => null, // an older checkout
);
const runner = loadRunner
  ? (await loadRunner(gpu, nodeShaderLibrary(), process.argv[2], { runner: runnerOpts })).runner
  : await (async () => {
      const files = await loadModelFiles(process.argv[2], { prep: { keep: 'gpu' } } as never);
      return LlamaRunner.build(gpu, nodeShaderLibrary(), files.config, files.tensors, runnerOpts);
    })();
const prompt = Array.from({ length: 8 }, (_, i) => ({ token: 10 + i, position: i }));
await runner.forward(prompt);
await runner.forward([{ token: 5, position }]); // leaves the decode row's inputs set
// The runner's full-pass op list: `full.ops` now, `ops` in older checkouts.
type Ops = { label: string; encode(p: GPUComputePassEncoder): void }[];
const inner = runner as unknown as { ops?: Ops; full?: { ops: Ops } };
const ops = inner.full?.ops ?? inner.ops ?? [];
const reps = Number(process.argv[3] ?? 5);
const ms = new Array<number>(ops.length).fill(0);
for (let r = 0; r < reps; r++) {
  const n = ops.length;
  const qs = device.createQuerySet({ type: 'timestamp', count: 2 * n });
  const res = device.createBuffer({
    size: 16 * n,
    usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC,
  });
  const rb = device.createBuffer({ size: 16 * n, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  const enc = device.createCommandEncoder();
  ops.forEach((op, i) => {
    const pass = enc.beginComputePass({
      timestampWrites: { querySet: qs, beginningOfPassWriteIndex: 2 * i, endOfPassWriteIndex: 2 * i + 1 },
    });
    op.encode(pass);
    pass.end();
  });
  enc.resolveQuerySet(qs, 0, 2 * n, res, 0);
  enc.copyBufferToBuffer(res, 0, rb, 0, 16 * n);
  device.queue.submit([enc.finish()]);
  await rb.mapAsync(GPUMapMode.READ);
  const t = new BigUint64Array(rb.getMappedRange().slice(0));
  for (let i = 0; i < n; i++) ms[i] += Number(t[2 * i + 1] - t[2 * i]) / 1e6 / reps;
}
const kinds = new Map<string, { ms: number; n: number }>();
ops.forEach((op, i) => {
  const k = op.label
    .replace(/^L\d+\./, '')
    .replace(/\[\d+\]/g, '')
    .replace(/\.(gemv|gemv_rows|gemm)$/, '');
  const e = kinds.get(k) ?? { ms: 0, n: 0 };
  e.ms += ms[i];
  e.n++;
  kinds.set(k, e);
});
const total = ms.reduce((a, b) => a + b, 0);
console.log(
  `one decode step (position ${position}, K/V ${kvDtype}), ${ops.length} ops, ${total.toFixed(1)} ms by timestamps (mean of ${reps})`,
);
for (const [k, e] of [...kinds].sort((a, b) => b[1].ms - a[1].ms))
  console.log(
    `  ${k.padEnd(14)} ${String(e.n).padStart(4)} ${e.ms.toFixed(2).padStart(8)}  ${((100 * e.ms) / total).toFixed(1).padStart(5)}%`,
  );
process.exit(0);
