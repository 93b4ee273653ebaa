// GPU lifetime: every buffer the engine creates is destroyed by unload(), serving many requests (reuse
// patches, trickle recompute, cache write-back) does not grow the set of live buffers, and a lost
// device unloads the model and fails requests with DeviceLostError until load() is called again.
import { describe, expect, it } from 'vitest';
import { Engine } from '../../src/engine/engine.ts';
import { DeviceLostError } from '../../src/errors.ts';
import { nodeShaderLibrary } from '../../src/gpu/shaders-node.ts';
import { storiesDir } from '../helpers/models.ts';
import { gpuProbe, trackingGPU } from '../helpers/tracking-gpu.ts';

const bytes = (live: Map<GPUBuffer, number>) => [...live.values()].reduce((a, b) => a + b, 0);

describe('GPU memory', () => {
  it('stays flat over many reuse requests and drops to nothing on unload', async () => {
    const probe = gpuProbe();
    const engine = new Engine({ gpu: () => trackingGPU(probe), shaders: nodeShaderLibrary });
    await engine.load(storiesDir(), { contextLength: 256 });
    expect(probe.live.size).toBeGreaterThan(10);
    const names = ['Lily', 'Tom', 'Sam', 'Ann', 'Ben', 'Sue', 'Max', 'Mia'];
    const ask = (name: string, mode: 'kvshare' | 'naive' | 'prefix' | 'none') =>
      engine.generate(`Once upon a time, ${name} found a red ball in the park.`, {
        maxNewTokens: 12,
        reuse: { mode },
      });
    await ask('Kim', 'none'); // compiles every pipeline, fills the cache
    await ask('Joe', 'kvshare');
    // Beyond the hot tier (entries kept on the GPU, 2 buffers per layer each, under its budget)
    // nothing grows.
    const L = engine.info!.config.numLayers;
    const outsideTier = () => {
      const s = engine.cache.stats();
      expect(s.gpuBytes).toBeLessThanOrEqual(s.gpuBudgetBytes);
      return { count: probe.live.size - 2 * L * s.gpuEntries, bytes: bytes(probe.live) - s.gpuBytes };
    };
    const afterWarmup = outsideTier();
    for (const [i, name] of names.entries()) {
      const r = await ask(name, (['kvshare', 'naive', 'prefix', 'none'] as const)[i % 4]);
      if (i % 4 < 2) expect(r.reuse.reusedTokens).toBeGreaterThan(0);
    }
    expect(engine.cache.stats().gpuEntries).toBeGreaterThan(0);
    expect(outsideTier()).toEqual(afterWarmup);
    await engine.unload();
    expect(probe.live.size).toBe(0);
  });
});

describe('device lost', () => {
  it('unloads the model, fails requests with DeviceLostError, and load() recovers', async () => {
    const probe = gpuProbe();
    const engine = new Engine({ gpu: () => trackingGPU(probe), shaders: nodeShaderLibrary });
    await engine.load(storiesDir(), { contextLength: 128 });
    const before = await engine.generate('Lily went to the park', { maxNewTokens: 6 });
    probe.loseDevice('simulated driver reset');
    await new Promise((r) => setTimeout(r, 0));
    const err = await engine.generate('Lily went to the park', { maxNewTokens: 6 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DeviceLostError);
    expect((err as Error).message).toMatch(/simulated driver reset.*load\(\)/);
    expect(engine.info).toBeNull();
    expect(probe.live.size).toBe(0); // everything of the lost model was destroyed
    await expect(engine.cache.add('Tom')).rejects.toBeInstanceOf(DeviceLostError);
    const stream = engine.generateStream('Tom', { maxNewTokens: 2 });
    await expect(stream.next()).rejects.toBeInstanceOf(DeviceLostError);

    await engine.load(storiesDir(), { contextLength: 128 });
    const after = await engine.generate('Lily went to the park', {
      maxNewTokens: 6,
      reuse: { mode: 'none' },
    });
    expect(after.tokenIds).toEqual(before.tokenIds);
    await engine.unload();
  });
});
