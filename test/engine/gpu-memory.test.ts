// No GPU leaks: every buffer the engine creates is destroyed by unload(), and serving many requests
// (with reuse patches, trickle recompute and cache write-back) does not grow the set of live buffers.
import { describe, expect, it } from 'vitest';
import { Engine } from '../../src/engine/engine.ts';
import { nodeGPU } from '../../src/gpu/node-gpu.ts';
import { nodeShaderLibrary } from '../../src/gpu/shaders-node.ts';
import { storiesDir } from '../helpers/models.ts';

/** A GPU whose devices record every buffer they create until it is destroyed. */
async function trackingGPU(live: Map<GPUBuffer, number>): Promise<GPU> {
  const gpu = await nodeGPU();
  const requestAdapter = gpu.requestAdapter.bind(gpu);
  const tracked = Object.create(gpu) as GPU;
  tracked.requestAdapter = async (opts) => {
    const adapter = await requestAdapter(opts);
    if (!adapter) return adapter;
    const requestDevice = adapter.requestDevice.bind(adapter);
    adapter.requestDevice = async (desc) => {
      const device = await requestDevice(desc);
      const createBuffer = device.createBuffer.bind(device);
      device.createBuffer = (d) => {
        const b = createBuffer(d);
        live.set(b, d.size);
        const destroy = b.destroy.bind(b);
        b.destroy = () => {
          live.delete(b);
          destroy();
        };
        return b;
      };
      return device;
    };
    return adapter;
  };
  return tracked;
}

const bytes = (live: Map<GPUBuffer, number>) => [...live.values()].reduce((a, b) => a + b, 0);

describe('GPU memory', () => {
  it('stays flat over many reuse requests and drops to nothing on unload', async () => {
    const live = new Map<GPUBuffer, number>();
    const engine = new Engine({ gpu: () => trackingGPU(live), shaders: nodeShaderLibrary });
    await engine.load(storiesDir(), { contextLength: 256 });
    expect(live.size).toBeGreaterThan(10);
    const names = ['Lily', 'Tom', 'Sam', 'Ann', 'Ben', 'Sue', 'Max', 'Mia'];
    const ask = (name: string, mode: 'kvshare' | 'naive' | 'prefix' | 'none') =>
      engine.generate(`Once upon a time, ${name} found a red ball in the park.`, {
        maxNewTokens: 12,
        reuse: { mode },
      });
    await ask('Kim', 'none'); // compiles every pipeline, fills the cache
    await ask('Joe', 'kvshare');
    const afterWarmup = { count: live.size, bytes: bytes(live) };
    for (const [i, name] of names.entries()) {
      const r = await ask(name, (['kvshare', 'naive', 'prefix', 'none'] as const)[i % 4]);
      if (i % 4 < 2) expect(r.reuse.reusedTokens).toBeGreaterThan(0);
    }
    expect(live.size).toBe(afterWarmup.count);
    expect(bytes(live)).toBe(afterWarmup.bytes);
    await engine.unload();
    expect(live.size).toBe(0);
  });
});
