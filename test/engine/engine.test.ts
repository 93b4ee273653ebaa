import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine } from '../../src/engine/engine.ts';
import {
  ContextOverflowError,
  EmptyPromptError,
  EngineNotLoadedError,
  InvalidArgumentError,
  ModelFileMissingError,
  WebGPUUnavailableError,
} from '../../src/errors.ts';
import { nodeShaderLibrary } from '../../src/gpu/shaders-node.ts';
import type { LoadProgress } from '../../src/model/types.ts';
import { createNodeTokenEngine } from '../../src/node/index.ts';
import { goldenPath, storiesDir } from '../helpers/models.ts';

const golden = JSON.parse(readFileSync(goldenPath(), 'utf8'));
const engine = createNodeTokenEngine();
const progress: LoadProgress[] = [];

beforeAll(async () => {
  await engine.load(storiesDir(), { contextLength: 256, onProgress: (p) => progress.push(p) });
});
afterAll(() => engine.unload());

describe('Engine', () => {
  it('reports load progress monotonically, ending in ready, with the model info', () => {
    const fetches = progress.filter((p) => p.kind === 'fetch');
    expect(fetches.length).toBeGreaterThan(0);
    for (let i = 1; i < fetches.length; i++)
      expect(fetches[i].loadedBytes).toBeGreaterThanOrEqual(fetches[i - 1].loadedBytes);
    expect(fetches.at(-1)!.loadedBytes).toBe(fetches.at(-1)!.totalBytes);
    const uploads = progress.filter((p) => p.kind === 'upload');
    expect(uploads.at(-1)!.loadedBytes).toBe(uploads.at(-1)!.totalBytes);
    expect(progress.at(-1)!.kind).toBe('ready');
    const info = engine.info!;
    expect(info.fingerprint).toMatch(/^[0-9a-f]{64}$/);
    expect(info.contextLength).toBe(256);
    expect(info.adapter.length).toBeGreaterThan(0);
  });

  it('generate() reproduces the golden greedy continuation and reports stats', async () => {
    const r = await engine.generate(golden.prompt, { maxNewTokens: 64 });
    expect(r.promptTokenIds).toEqual(golden.prompt_ids_with_bos);
    expect(r.tokenIds).toEqual(golden.greedy_64_after_prompt.ids);
    expect(golden.greedy_64_after_prompt.text).toContain(r.text.trim());
    expect(r.finishReason).toBe('length');
    expect(r.stats.promptTokens).toBe(5);
    expect(r.stats.newTokens).toBe(64);
    expect(r.stats.ttftMs).toBeGreaterThan(0);
    expect(r.stats.decodeTokensPerSec).toBeGreaterThan(0);
  });

  it('streaming yields the same tokens and text as generate()', async () => {
    const chunks: string[] = [];
    const ids: number[] = [];
    const stream = engine.generateStream('Lily went to the park', { maxNewTokens: 20 });
    let res = await stream.next();
    while (!res.done) {
      chunks.push(res.value.text);
      ids.push(res.value.tokenId);
      res = await stream.next();
    }
    const whole = await engine.generate('Lily went to the park', { maxNewTokens: 20 });
    expect(ids).toEqual(whole.tokenIds);
    expect(chunks.join('')).toBe(whole.text);
    expect(res.value.tokenIds).toEqual(whole.tokenIds);
  });

  it('seeded sampling is reproducible and differs across seeds', async () => {
    const opts = { maxNewTokens: 24, temperature: 1, topK: 40, topP: 0.95 };
    const a = await engine.generate('Once upon a time', { ...opts, seed: 1 });
    const b = await engine.generate('Once upon a time', { ...opts, seed: 1 });
    const c = await engine.generate('Once upon a time', { ...opts, seed: 2 });
    expect(a.tokenIds).toEqual(b.tokenIds);
    expect(a.tokenIds).not.toEqual(c.tokenIds);
  });

  it('stop strings cut the text; aborting stops promptly and the engine stays usable', async () => {
    const r = await engine.generate(golden.prompt, { maxNewTokens: 64, stop: ['Lily'] });
    expect(r.finishReason).toBe('stop');
    expect(r.text).toBe(', there was a little girl named ');
    const ac = new AbortController();
    const stream = engine.generateStream(golden.prompt, { maxNewTokens: 200, signal: ac.signal });
    let n = 0;
    for await (const _ of stream) if (++n === 3) ac.abort();
    const after = await engine.generate(golden.prompt, { maxNewTokens: 8 });
    expect(after.tokenIds).toEqual(golden.greedy_64_after_prompt.ids.slice(0, 8));
    expect(n).toBeLessThan(6);
  });

  it('bad input gets typed errors', async () => {
    await expect(engine.generate('   ')).rejects.toBeInstanceOf(EmptyPromptError);
    await expect(engine.generate({ tokenIds: [] })).rejects.toBeInstanceOf(EmptyPromptError);
    await expect(engine.generate('Once upon a time', { maxNewTokens: 252 })).rejects.toBeInstanceOf(
      ContextOverflowError,
    );
    await expect(engine.generate('Once', { temperature: -1 })).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(engine.generate({ tokenIds: [1, 9999] })).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(
      new Engine({ gpu: async () => undefined, shaders: nodeShaderLibrary }).generate('x'),
    ).rejects.toBeInstanceOf(EngineNotLoadedError);
  });

  it('load errors: missing model folder, no WebGPU', async () => {
    const other = createNodeTokenEngine();
    await expect(other.load('/nonexistent/model')).rejects.toBeInstanceOf(ModelFileMissingError);
    const noGpu = new Engine({ gpu: async () => undefined, shaders: nodeShaderLibrary });
    await expect(noGpu.load(storiesDir())).rejects.toBeInstanceOf(WebGPUUnavailableError);
    const noAdapter = new Engine({
      gpu: async () => ({ requestAdapter: async () => null }) as unknown as GPU,
      shaders: nodeShaderLibrary,
    });
    await expect(noAdapter.load(storiesDir())).rejects.toThrow(/no GPU adapter/);
  });
});
