import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { TensorTooLargeError } from '../../src/errors.ts';
import { nodeShaderLibrary } from '../../src/gpu/shaders-node.ts';
import { LlamaRunner } from '../../src/llama/runner.ts';
import { checkTensorsFit } from '../../src/llama/weights.ts';
import { loadModelFiles } from '../../src/model/load.ts';
import type { LoadProgress } from '../../src/model/types.ts';
import { testGpu } from '../helpers/gpu.ts';
import { goldenPath, storiesDir } from '../helpers/models.ts';

const golden = JSON.parse(readFileSync(goldenPath(), 'utf8'));

describe('tensors larger than one storage binding', () => {
  it('are split by rows and still give the golden logits', async () => {
    const gpu = await testGpu();
    // 40 KiB bindings: the [512, 64] f32 embedding / tied head (128 KiB) becomes 4 parts.
    const limited = { ...gpu, limits: { ...gpu.limits, maxStorageBufferBindingSize: 40 * 1024 } };
    const files = await loadModelFiles(storiesDir());
    const runner = LlamaRunner.build(limited, nodeShaderLibrary(), files.config, files.tensors, {
      contextLength: 64,
    });
    expect(runner.weights.embed.length).toBe(4);
    const ids: number[] = golden.prompt_ids_with_bos;
    const r = await runner.forward(
      ids.map((token, position) => ({ token, position })),
      { readLogits: true },
    );
    let maxDiff = 0;
    golden.logits_last_prompt_position.forEach((g: number, i: number) => {
      maxDiff = Math.max(maxDiff, Math.abs(r.logits![i] - g));
    });
    expect(maxDiff).toBeLessThan(1e-4);
    runner.destroy();
  });

  it('a tensor whose single row cannot fit fails with a typed error before any weight is downloaded', async () => {
    const events: LoadProgress[] = [];
    const tiny = { maxStorageBufferBindingSize: 128, maxBufferSize: 1 << 30 }; // a 64-float row is 256 B
    await expect(
      loadModelFiles(storiesDir(), {
        onProgress: (p) => events.push(p),
        checkTensors: (t) => checkTensorsFit(t, tiny),
      }),
    ).rejects.toBeInstanceOf(TensorTooLargeError);
    expect(events.filter((e) => e.kind === 'fetch' && e.loadedBytes > 0)).toHaveLength(0);
  });
});
