// load({quantize}) through the engine: weights quantized and uploaded as they stream in, a fingerprint
// of its own (cache entries never shared with the full-precision model), greedy text, bad options.
import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../src/errors.ts';
import type { LoadProgress } from '../../src/model/types.ts';
import { createNodeTokenEngine } from '../../src/node/index.ts';
import { goldenPath, storiesDir } from '../helpers/models.ts';

const golden = JSON.parse(readFileSync(goldenPath(), 'utf8'));
const engine = createNodeTokenEngine();
afterAll(() => engine.unload());

describe('Engine load with quantize', () => {
  it('q8: a quarter-ish of the F32 bytes, its own fingerprint, the golden greedy start, progress to the end', async () => {
    const full = await engine.load(storiesDir(), { contextLength: 64 });
    const progress: LoadProgress[] = [];
    const q8 = await engine.load(storiesDir(), {
      contextLength: 64,
      quantize: 'q8',
      onProgress: (p) => progress.push(p),
    });
    expect(q8.fingerprint).not.toBe(full.fingerprint);
    expect(q8.weightBytes / full.weightBytes).toBeLessThan(0.3); // 8.5 of 32 bits, norms f32
    const uploads = progress.filter((p) => p.kind === 'upload');
    expect(uploads.at(-1)?.loadedBytes).toBe(uploads.at(-1)?.totalBytes);
    expect(progress.at(-1)?.kind).toBe('ready');
    const r = await engine.generate('Once upon a time', { maxNewTokens: 32, reuse: { mode: 'none' } });
    expect(r.tokenIds).toEqual(golden.greedy_64_after_prompt.ids.slice(0, 32));
  });

  it('refuses an unknown quantize option before loading anything', async () => {
    await expect(engine.load(storiesDir(), { quantize: 'q5' as 'q4' })).rejects.toThrow(InvalidArgumentError);
  });

  it('refuses an unknown kvDtype before loading anything', async () => {
    await expect(engine.load(storiesDir(), { kvDtype: 'q4' as 'f16' })).rejects.toThrow(
      /kvDtype must be 'f16', 'f32' or 'q8'/,
    );
  });
});
