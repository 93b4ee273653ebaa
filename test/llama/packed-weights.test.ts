// 16-bit checkpoints (F16, BF16) keep their 2-D weights 16-bit on the GPU: half the bytes of F32.
// (Splitting packed weights into parts: test/llama/split.test.ts.)
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeSyntheticModel } from '../../src/cli/synthetic/synthetic.ts';
import type { GpuContext } from '../../src/gpu/device.ts';
import { nodeShaderLibrary } from '../../src/gpu/shaders-node.ts';
import { LlamaRunner } from '../../src/llama/runner.ts';
import { loadModelFiles } from '../../src/model/load.ts';
import type { DType } from '../../src/model/types.ts';
import { testGpu } from '../helpers/gpu.ts';

const tmp = mkdtempSync(join(tmpdir(), 'kvshare-packed-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

async function buildTinyLlama(dtype: DType, gpu?: GpuContext): Promise<LlamaRunner> {
  const dir = join(tmp, `tiny-llama-${dtype}`);
  await writeSyntheticModel({ shape: 'tiny-llama', out: dir, seed: 11, dtype });
  const files = await loadModelFiles(dir);
  return LlamaRunner.build(gpu ?? (await testGpu()), nodeShaderLibrary(), files.config, files.tensors, {
    contextLength: 32,
  });
}

const rows = [1, 9, 40, 300, 2, 77].map((token, position) => ({ token, position }));

describe('16-bit weights on the GPU', () => {
  it('take about half the bytes of the same model in F32', async () => {
    const f32 = await buildTinyLlama('F32');
    const bf16 = await buildTinyLlama('BF16');
    const f16 = await buildTinyLlama('F16');
    expect(f32.weights.embed[0].format).toBe('f32');
    expect(bf16.weights.embed[0].format).toBe('bf16');
    expect(f16.weights.layers[0].wDown[0].format).toBe('f16');
    // Norm vectors stay f32, so a little over half: tiny-llama has 4 * 48 + 48 norm values.
    const ratio = bf16.weights.bytes / f32.weights.bytes;
    expect(ratio).toBeGreaterThan(0.5);
    expect(ratio).toBeLessThan(0.51);
    expect(f16.weights.bytes).toBe(bf16.weights.bytes);
    // The 16-bit models' weights are the F32 model's, rounded: nearly the same logits.
    const ref = (await f32.forward(rows, { readLogits: true })).logits!;
    for (const r of [bf16, f16]) {
      const got = (await r.forward(rows, { readLogits: true })).logits!;
      let worst = 0;
      for (let i = 0; i < ref.length; i++) worst = Math.max(worst, Math.abs(got[i] - ref[i]));
      expect(worst).toBeLessThan(0.01); // logits here reach about 0.46; BF16 differs by ~0.0015
    }
    for (const r of [f32, bf16, f16]) r.destroy();
  });
});
