import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { nodeShaderLibrary } from '../../src/gpu/shaders-node.ts';
import { LlamaRunner } from '../../src/llama/runner.ts';
import { loadModelFiles } from '../../src/model/load.ts';
import { testGpu } from '../helpers/gpu.ts';
import { goldenPath, storiesDir } from '../helpers/models.ts';

interface Golden {
  prompt_ids_with_bos: number[];
  greedy_64_after_prompt: { ids: number[]; text: string };
  logits_last_prompt_position: number[];
  logits_position0_after_bos: number[];
  unconditional_greedy_from_bos: { ids: number[] };
}

const golden: Golden = JSON.parse(readFileSync(goldenPath(), 'utf8'));
let runner: LlamaRunner;

beforeAll(async () => {
  const files = await loadModelFiles(storiesDir());
  runner = LlamaRunner.build(await testGpu(), nodeShaderLibrary(), files.config, files.tensors, {
    contextLength: 512,
    kvDtype: 'f32',
  });
});

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

async function greedy(prompt: number[], steps: number, r = runner): Promise<number[]> {
  const first = await r.forward(prompt.map((token, position) => ({ token, position })));
  const out = [first.ids[0]];
  while (out.length < steps) {
    const step = await r.forward([{ token: out[out.length - 1], position: prompt.length + out.length - 1 }]);
    out.push(step.ids[0]);
  }
  return out;
}

describe('stories260K against the golden outputs of the original implementation', () => {
  it('logits after BOS and at the last prompt position match within 1e-4', async () => {
    const ids = golden.prompt_ids_with_bos;
    const r = await runner.forward(
      ids.map((token, position) => ({ token, position })),
      { logitRows: [0, ids.length - 1], readLogits: true },
    );
    const V = 512;
    expect(maxAbsDiff(r.logits!.subarray(0, V), golden.logits_position0_after_bos)).toBeLessThan(1e-4);
    expect(maxAbsDiff(r.logits!.subarray(V, 2 * V), golden.logits_last_prompt_position)).toBeLessThan(1e-4);
  });

  it('greedy: the 64 tokens after "Once upon a time" are identical', async () => {
    expect(await greedy(golden.prompt_ids_with_bos, 64)).toEqual(golden.greedy_64_after_prompt.ids);
  });

  it('greedy: the 256-token story from BOS is identical', async () => {
    const ids = golden.unconditional_greedy_from_bos.ids; // includes the BOS
    expect(await greedy([ids[0]], ids.length - 1)).toEqual(ids.slice(1));
  });

  it('prefill in chunks (rows > maxRows) equals prefill in one step', async () => {
    const files = await loadModelFiles(storiesDir());
    const small = LlamaRunner.build(await testGpu(), nodeShaderLibrary(), files.config, files.tensors, {
      contextLength: 512,
      maxRows: 7,
    });
    const ids = golden.unconditional_greedy_from_bos.ids.slice(0, 40);
    const rows = ids.map((token, position) => ({ token, position }));
    const a = await small.forward(rows, { readLogits: true });
    const b = await runner.forward(rows, { readLogits: true });
    expect(maxAbsDiff(a.logits!, b.logits!)).toBeLessThan(1e-5);
    small.destroy();
  });

  it('with an f16 KV cache: the same 64 tokens after the prompt and the same 256-token story', async () => {
    const files = await loadModelFiles(storiesDir());
    const half = LlamaRunner.build(await testGpu(), nodeShaderLibrary(), files.config, files.tensors, {
      contextLength: 512,
      kvDtype: 'f16',
    });
    expect(await greedy(golden.prompt_ids_with_bos, 64, half)).toEqual(golden.greedy_64_after_prompt.ids);
    const ids = golden.unconditional_greedy_from_bos.ids;
    expect(await greedy([ids[0]], ids.length - 1, half)).toEqual(ids.slice(1));
    half.destroy();
  });

  it('with a q8 KV cache: the 64 tokens after the prompt match f32 for a long stretch (counted, reported)', async () => {
    const files = await loadModelFiles(storiesDir());
    const q8 = LlamaRunner.build(await testGpu(), nodeShaderLibrary(), files.config, files.tensors, {
      contextLength: 512,
      kvDtype: 'q8',
    });
    const leading = (got: number[], want: number[]) => {
      const i = got.findIndex((t, j) => t !== want[j]);
      return i < 0 ? got.length : i;
    };
    const after = await greedy(golden.prompt_ids_with_bos, 64, q8);
    const ids = golden.unconditional_greedy_from_bos.ids;
    const story = await greedy([ids[0]], ids.length - 1, q8);
    q8.destroy();
    const [a, b] = [leading(after, golden.greedy_64_after_prompt.ids), leading(story, ids.slice(1))];
    console.log(
      `q8 KV: ${a}/64 tokens after the prompt and ${b}/255 of the story match f32 before the first difference`,
    );
    expect(a).toBeGreaterThanOrEqual(32);
    expect(b).toBeGreaterThanOrEqual(32);
  });
});
