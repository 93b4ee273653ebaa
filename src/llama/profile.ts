/**
 * Per-op timing of one forward step (`kvshare bench --profile`, src/cli/profile.ts). Where the device
 * has `timestamp-query`, the step runs as one submit with each op in its own compute pass between two
 * timestamps (`method: 'timestamps'`: the ops' times as they run in a real step, back to back);
 * otherwise every op gets its own submit (`'isolated submits'`: each time includes a submit's round
 * trip, `baselineMs`, the median time of an empty one).
 */
import type { GpuContext } from '../gpu/device.ts';
import { encodePass, type Op } from '../gpu/op.ts';
import type { LlamaRunner, Row } from './runner.ts';

export interface OpTimes {
  ops: { label: string; ms: number }[];
  baselineMs: number;
  method: 'timestamps' | 'isolated submits';
}

/** Time every op of one forward step of `rows` on `runner`; with timestamps, the mean of `reps` steps. */
export async function profileStep(runner: LlamaRunner, rows: Row[], reps = 3): Promise<OpTimes> {
  const ops = runner.stageProfile(rows);
  const { gpu } = runner;
  const { device } = gpu;
  const timeSubmit = async (op: Op | null) => {
    const enc = device.createCommandEncoder();
    encodePass(enc, op ? [op] : []);
    const t = performance.now();
    device.queue.submit([enc.finish()]);
    await device.queue.onSubmittedWorkDone();
    return performance.now() - t;
  };
  await timeSubmit(null);
  const base: number[] = [];
  for (let i = 0; i < 5; i++) base.push(await timeSubmit(null));
  const baselineMs = base.sort((a, b) => a - b)[2];
  if (device.features.has('timestamp-query')) {
    const ms = new Array<number>(ops.length).fill(0);
    for (let r = 0; r < reps; r++) {
      const t = await timestampOps(gpu, ops);
      for (let i = 0; i < t.length; i++) ms[i] += t[i] / reps;
    }
    return { ops: ops.map((op, i) => ({ label: op.label, ms: ms[i] })), baselineMs, method: 'timestamps' };
  }
  const timed: { label: string; ms: number }[] = [];
  for (const op of ops) timed.push({ label: op.label, ms: await timeSubmit(op) });
  if (gpu.lost) throw gpu.lost;
  return { ops: timed, baselineMs, method: 'isolated submits' };
}

/** ms of each of `ops` run back to back in one submit, from timestamps around each op's pass. */
async function timestampOps(gpu: GpuContext, ops: readonly Op[]): Promise<number[]> {
  const { device } = gpu;
  const n = ops.length;
  const querySet = device.createQuerySet({ type: 'timestamp', count: 2 * n });
  const resolve = device.createBuffer({
    size: 16 * n, // [n, 2] u64 ns
    usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC,
  });
  const read = device.createBuffer({
    size: 16 * n,
    usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
  });
  try {
    const enc = device.createCommandEncoder({ label: 'profile' });
    ops.forEach((op, i) => {
      const timestampWrites = { querySet, beginningOfPassWriteIndex: 2 * i, endOfPassWriteIndex: 2 * i + 1 };
      encodePass(enc, [op], { timestampWrites });
    });
    enc.resolveQuerySet(querySet, 0, 2 * n, resolve, 0);
    enc.copyBufferToBuffer(resolve, 0, read, 0, 16 * n);
    device.queue.submit([enc.finish()]);
    await read.mapAsync(GPUMapMode.READ);
    if (gpu.lost) throw gpu.lost;
    const t = new BigUint64Array(read.getMappedRange().slice(0));
    read.unmap();
    return ops.map((_, i) => Number(t[2 * i + 1] - t[2 * i]) / 1e6);
  } finally {
    querySet.destroy();
    resolve.destroy();
    read.destroy();
  }
}
