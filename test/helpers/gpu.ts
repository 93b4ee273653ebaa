import { readBuffer, readF32, storageBuffer, uploadF32, uploadU32 } from '../../src/gpu/buffers.ts';
import { acquireDevice, type GpuContext } from '../../src/gpu/device.ts';
import { nodeGPU } from '../../src/gpu/node-gpu.ts';
import { type Op, RowCount, submitOps } from '../../src/gpu/op.ts';
import { PipelineCache } from '../../src/gpu/pipelines.ts';
import { nodeShaderLibrary } from '../../src/gpu/shaders-node.ts';
import type { KernelContext } from '../../src/ops/context.ts';

let shared: Promise<GpuContext> | null = null;

/** One device per test process (vitest forks a process per file). */
export function testGpu(): Promise<GpuContext> {
  shared ??= nodeGPU().then((gpu) => acquireDevice(gpu));
  return shared;
}

export interface KernelHarness {
  k: KernelContext;
  f32(data: Float32Array | number[]): GPUBuffer;
  u32(data: Uint32Array | Int32Array | number[]): GPUBuffer;
  zeros(count: number): GPUBuffer;
  rows(n: number, max?: number): RowCount;
  run(ops: Op[]): void;
  read(buf: GPUBuffer, count: number): Promise<Float32Array>;
  readU32(buf: GPUBuffer, count: number): Promise<Uint32Array>;
}

export async function kernelHarness(): Promise<KernelHarness> {
  const gpu = await testGpu();
  const device = gpu.device;
  const pipelines = new PipelineCache(device, nodeShaderLibrary());
  const k: KernelContext = {
    device,
    pipelines,
    dummy: storageBuffer(device, 16, 'dummy'),
    owned: [],
    subgroupSize: gpu.subgroupSize,
    software: gpu.software,
  };
  return {
    k,
    f32: (d) => uploadF32(device, d instanceof Float32Array ? d : new Float32Array(d), 't'),
    u32: (d) => uploadU32(device, Array.isArray(d) ? new Uint32Array(d) : d, 'u'),
    zeros: (count) => storageBuffer(device, count * 4, 'z'),
    rows(n, max = n) {
      const r = new RowCount(device, Math.max(max, 1), 'rows');
      r.set(n);
      return r;
    },
    run: (ops) => submitOps(device, ops),
    read: (buf, count) => readF32(device, buf, count),
    readU32: async (buf, count) => new Uint32Array(await readBuffer(device, buf, count * 4)),
  };
}

/** Deterministic uniform values in [-scale, scale). */
export function randn(count: number, seed: number, scale = 1): Float32Array {
  let s = seed >>> 0 || 1;
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) {
    s = (Math.imul(s ^ (s >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0;
    s ^= s << 13;
    s >>>= 0;
    out[i] = ((s % 1_000_003) / 1_000_003 - 0.5) * 2 * scale;
  }
  return out;
}

/** Largest |a - b| / (atol + rtol * |b|); <= 1 means within tolerance. */
export function toleranceRatio(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  atol: number,
  rtol: number,
): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} != ${b.length}`);
  let worst = 0;
  for (let i = 0; i < a.length; i++) {
    const r = Math.abs(a[i] - b[i]) / (atol + rtol * Math.abs(b[i]));
    if (!(r <= worst)) worst = Number.isNaN(r) ? Infinity : Math.max(worst, r);
  }
  return worst;
}
