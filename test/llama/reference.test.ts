import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeSyntheticModel } from '../../src/cli/synthetic/synthetic.ts';
import { nodeShaderLibrary } from '../../src/gpu/shaders-node.ts';
import { LlamaRunner } from '../../src/llama/runner.ts';
import { loadModelFiles } from '../../src/model/load.ts';
import { testGpu, toleranceRatio } from '../helpers/gpu.ts';
import { storiesDir } from '../helpers/models.ts';
import { ReferenceLlama } from '../reference/llama.ts';

const tmp = mkdtempSync(join(tmpdir(), 'kvshare-ref-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** GPU logits for every row vs the TypeScript reference, over a prefill and a few out-of-order rows. */
async function compare(dir: string, tokens: number[]): Promise<void> {
  const files = await loadModelFiles(dir);
  const gpu = LlamaRunner.build(await testGpu(), nodeShaderLibrary(), files.config, files.tensors, {
    contextLength: 64,
    maxLogitRows: 32,
  });
  const cpu = new ReferenceLlama(files.config, files.tensors, 64);
  const rows = tokens.map((token, position) => ({ token, position }));
  const all = rows.map((_, i) => i);
  const g = await gpu.forward(rows, { logitRows: all, readLogits: true });
  const c = cpu.forward(rows);
  expect(toleranceRatio(g.logits!, c, 1e-4, 1e-3)).toBeLessThan(1);
  // Recompute two earlier rows together with a new one (the partial-recompute shape).
  const partial = [rows[2], rows[5], { token: tokens[0], position: tokens.length }];
  const g2 = await gpu.forward(partial, { logitRows: [0, 1, 2], readLogits: true });
  const c2 = cpu.forward(partial);
  expect(toleranceRatio(g2.logits!, c2, 1e-4, 1e-3)).toBeLessThan(1);
  gpu.destroy();
}

describe('whole-model logits match the TypeScript reference', () => {
  it('stories260K (Llama, GQA, tied embeddings)', async () => {
    await compare(storiesDir(), [1, 403, 407, 261, 378, 432, 383, 286, 261, 376, 298]);
  });

  it('synthetic tiny Qwen2 (q/k/v biases, untied head, head_dim 16)', async () => {
    const dir = join(tmp, 'tiny-qwen2');
    await writeSyntheticModel({ shape: 'tiny-qwen2', out: dir, seed: 3 });
    await compare(dir, [5, 17, 300, 42, 99, 7, 511, 256, 3]);
  });

  it('synthetic tiny Qwen2 in F16 (weights kept 16-bit on the GPU)', async () => {
    const dir = join(tmp, 'tiny-qwen2-f16');
    await writeSyntheticModel({ shape: 'tiny-qwen2', out: dir, seed: 3, dtype: 'F16' });
    await compare(dir, [5, 17, 300, 42, 99, 7, 511, 256, 3]);
  });

  it('synthetic tiny Llama in BF16 (odd intermediate size 100, 6 heads / 2 kv heads)', async () => {
    const dir = join(tmp, 'tiny-llama');
    await writeSyntheticModel({ shape: 'tiny-llama', out: dir, seed: 4, dtype: 'BF16' });
    await compare(dir, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  });
});
