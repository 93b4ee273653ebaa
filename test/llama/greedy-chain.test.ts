import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { GreedyChain } from '../../src/engine/greedy-chain.ts';
import { nodeShaderLibrary } from '../../src/gpu/shaders-node.ts';
import { LlamaRunner, type Row } from '../../src/llama/runner.ts';
import { loadModelFiles } from '../../src/model/load.ts';
import { testGpu } from '../helpers/gpu.ts';
import { goldenPath, storiesDir } from '../helpers/models.ts';

const golden: { prompt_ids_with_bos: number[]; greedy_64_after_prompt: { ids: number[] } } = JSON.parse(
  readFileSync(goldenPath(), 'utf8'),
);
const prompt = golden.prompt_ids_with_bos;
let runner: LlamaRunner;

beforeAll(async () => {
  const files = await loadModelFiles(storiesDir());
  runner = LlamaRunner.build(await testGpu(), nodeShaderLibrary(), files.config, files.tensors, {
    contextLength: 512,
  });
});

/** Prefill the prompt and return the first answer token. */
async function prefill(): Promise<number> {
  return (await runner.forward(prompt.map((token, position) => ({ token, position })))).ids[0];
}

/** `extra(k)`: rows recomputed along with step k (prompt rows, as trickle recompute does). */
const extra = (k: number): Row[] => {
  if (k % 3 !== 0) return [];
  const n = Math.min(3, prompt.length);
  return Array.from({ length: n }, (_, d) => (k + d) % prompt.length).map((p) => ({
    token: prompt[p],
    position: p,
  }));
};

describe('greedy decode chained on the GPU (ids read back one step behind)', () => {
  it('reproduces the golden 64 tokens', async () => {
    const out = [await prefill()];
    const chain = new GreedyChain(runner, {
      firstToken: out[0],
      start: prompt.length,
      steps: 63,
      extraRows: () => [],
    });
    while (out.length < 64) out.push(await chain.next());
    await chain.drain();
    expect(out).toEqual(golden.greedy_64_after_prompt.ids);
  });

  it('with extra rows per step, equals host-fed steps over the same rows', async () => {
    const steps = 12;
    const hostFed = [await prefill()];
    for (let k = 0; k < steps; k++) {
      const rows = [...extra(k), { token: hostFed[k], position: prompt.length + k }];
      hostFed.push((await runner.forward(rows)).ids[0]);
    }
    const chained = [await prefill()];
    let k = 0;
    const chain = new GreedyChain(runner, {
      firstToken: chained[0],
      start: prompt.length,
      steps,
      extraRows: () => extra(k++),
    });
    while (chained.length <= steps) chained.push(await chain.next());
    await chain.drain();
    expect(chained).toEqual(hostFed);
  });

  it('stopping early and draining leaves the runner usable', async () => {
    const first = await prefill();
    const chain = new GreedyChain(runner, {
      firstToken: first,
      start: prompt.length,
      steps: 40,
      extraRows: () => [],
    });
    const two = [await chain.next(), await chain.next()];
    await chain.drain();
    expect(two).toEqual(golden.greedy_64_after_prompt.ids.slice(1, 3));
    const again = await prefill();
    expect(again).toBe(first);
  });

  it('a step past the context fails with the runner error', async () => {
    const chain = new GreedyChain(runner, {
      firstToken: 5,
      start: runner.contextLength,
      steps: 2,
      extraRows: () => [],
    });
    await expect(chain.next()).rejects.toThrow(/outside the context/);
    await chain.drain();
  });
});
