import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeSyntheticModel } from '../../src/cli/synthetic/synthetic.ts';
import { TensorTooLargeError } from '../../src/errors.ts';
import { nodeShaderLibrary } from '../../src/gpu/shaders-node.ts';
import { LlamaRunner } from '../../src/llama/runner.ts';
import { checkTensorsFit } from '../../src/llama/weights.ts';
import { loadModelFiles } from '../../src/model/load.ts';
import type { LoadProgress } from '../../src/model/types.ts';
import { testGpu } from '../helpers/gpu.ts';
import { goldenPath, storiesDir } from '../helpers/models.ts';

const golden = JSON.parse(readFileSync(goldenPath(), 'utf8'));
const tmp = mkdtempSync(join(tmpdir(), 'kvshare-split-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

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

  it('16-bit (BF16) weights are split by their packed row bytes and give the same logits as unsplit', async () => {
    const gpu = await testGpu();
    // 20 KiB bindings: the [512, 48] BF16 embedding is 96 B a row packed (192 B as f32), so
    // 213 rows a part: 3 parts (5 if it were sized as f32).
    const limited = { ...gpu, limits: { ...gpu.limits, maxStorageBufferBindingSize: 20 * 1024 } };
    const dir = join(tmp, 'tiny-llama-bf16');
    await writeSyntheticModel({ shape: 'tiny-llama', out: dir, seed: 11, dtype: 'BF16' });
    const files = await loadModelFiles(dir);
    const opts = { contextLength: 32 };
    const split = LlamaRunner.build(limited, nodeShaderLibrary(), files.config, files.tensors, opts);
    const whole = LlamaRunner.build(gpu, nodeShaderLibrary(), files.config, files.tensors, opts);
    const rows = [1, 9, 40, 300, 2, 77].map((token, position) => ({ token, position }));
    expect(split.weights.embed.map((p) => p.rows)).toEqual([213, 213, 86]);
    expect(split.weights.lmHead).toHaveLength(3);
    expect(whole.weights.embed).toHaveLength(1);
    expect(split.weights.bytes).toBe(whole.weights.bytes);
    for (const n of [1, 3, rows.length]) {
      const a = await split.forward(rows.slice(0, n), { readLogits: true });
      const b = await whole.forward(rows.slice(0, n), { readLogits: true });
      expect(Array.from(a.logits!)).toEqual(Array.from(b.logits!));
    }
    split.destroy();
    whole.destroy();
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

  it('checks a 16-bit tensor by its packed row bytes', () => {
    const limits = { maxStorageBufferBindingSize: 128, maxBufferSize: 1 << 30 };
    const t = (dtype: 'F32' | 'BF16' | 'F16', cols: number) => [{ name: 'w', shape: [4, cols], dtype }];
    expect(() => checkTensorsFit(t('BF16', 64), limits)).not.toThrow(); // 128 B a row packed
    expect(() => checkTensorsFit(t('F16', 63), limits)).not.toThrow(); // odd: padded to 64 values
    expect(() => checkTensorsFit(t('BF16', 65), limits)).toThrow(TensorTooLargeError);
    expect(() => checkTensorsFit(t('F32', 64), limits)).toThrow(TensorTooLargeError);
  });
});
