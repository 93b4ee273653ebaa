// PipelineCache: nested #include, swapping an included prelude, directives moved to the module top,
// a const rewritten like an override (a private array's size), and clear errors for missing files
// and overrides.
import { beforeAll, describe, expect, it } from 'vitest';
import { readF32, storageBuffer } from '../../src/gpu/buffers.ts';
import type { GpuContext } from '../../src/gpu/device.ts';
import { PipelineCache } from '../../src/gpu/pipelines.ts';
import { testGpu } from '../helpers/gpu.ts';

let gpu: GpuContext;
beforeAll(async () => {
  gpu = await testGpu();
});

const LIB = {
  main: '#include outer\n@compute @workgroup_size(1) fn main() { y[0] = value() + f32(K); }',
  outer:
    '@group(0) @binding(0) var<storage, read_write> y: array<f32>;\noverride K: u32 = 1u;\n#include inner',
  inner: 'fn value() -> f32 { return 10.0; }',
  inner_other: 'diagnostic(off, derivative_uniformity);\nfn value() -> f32 { return 20.0; }',
  // N sizes a private array, so it must be a const: the cache rewrites its value as it does an override's
  sized: [
    '@group(0) @binding(0) var<storage, read_write> y: array<f32>;',
    'const N: u32 = 2u;',
    '@compute @workgroup_size(1) fn main() {',
    '  var a: array<f32, N>;',
    '  for (var i = 0u; i < N; i++) { a[i] = f32(i + 1u); }',
    '  var s = 0.0;',
    '  for (var i = 0u; i < N; i++) { s += a[i]; }',
    '  y[0] = s;',
    '}',
  ].join('\n'),
};

async function run(pipeline: GPUComputePipeline): Promise<number> {
  const { device } = gpu;
  const y = storageBuffer(device, 16, 'y');
  const bg = device.createBindGroup({
    layout: pipeline.getBindGroupLayout(0),
    entries: [{ binding: 0, resource: { buffer: y } }],
  });
  const enc = device.createCommandEncoder();
  const pass = enc.beginComputePass();
  pass.setPipeline(pipeline);
  pass.setBindGroup(0, bg);
  pass.dispatchWorkgroups(1);
  pass.end();
  device.queue.submit([enc.finish()]);
  return (await readF32(device, y, 1))[0];
}

describe('PipelineCache', () => {
  it('expands nested includes, swaps an include and hoists its directives, keys every variant', async () => {
    const cache = new PipelineCache(gpu.device, LIB);
    expect(await run(cache.get('main', 'main'))).toBe(11);
    expect(await run(cache.get('main', 'main', { K: 3 }))).toBe(13);
    const swapped = cache.get('main', 'main', { K: 3 }, { inner: 'inner_other' });
    expect(await run(swapped)).toBe(23);
    expect(cache.get('main', 'main', { K: 3 }, { inner: 'inner_other' })).toBe(swapped);
    expect(cache.size).toBe(3);
  });

  it('rewrites a const as it does an override: an array sized per variant', async () => {
    const cache = new PipelineCache(gpu.device, LIB);
    expect(await run(cache.get('sized', 'main'))).toBe(3); // 1 + 2
    expect(await run(cache.get('sized', 'main', { N: 8 }))).toBe(36); // 1 + ... + 8
    expect(cache.size).toBe(2);
  });

  it('names a missing include or override', () => {
    const cache = new PipelineCache(gpu.device, LIB);
    expect(() => cache.get('main', 'main', {}, { inner: 'nope' })).toThrow(/outer\.wgsl includes nope\.wgsl/);
    expect(() => cache.get('main', 'main', { Q: 1 })).toThrow(/has no override or const Q/);
    expect(() => cache.get('absent', 'main')).toThrow(/no shader named absent\.wgsl/);
  });
});
