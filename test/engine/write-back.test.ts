// Write-back of a prompt that does not fit the cache: the answer stands, nothing is stored and nothing
// it would have replaced is lost; an explicit cache.add of such a prompt says why it was not cached.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Engine } from '../../src/engine/engine.ts';
import { InvalidArgumentError } from '../../src/errors.ts';
import { createNodeTokenEngine } from '../../src/node/index.ts';
import { storiesDir } from '../helpers/models.ts';

// stories260K: 5 layers × kvDim 32 × 2 (K, V) × 4 bytes = 1,280 bytes of f32 K/V per token. The budget
// holds SHORT's ~5 tokens, never LONG's ~75 (not even at a quarter of the bytes per token).
const SHORT = 'Once upon a time';
const LONG =
  'Once upon a time, there was a little girl named Lily. She loved to play outside in the park. '.repeat(3);
const engine: Engine = createNodeTokenEngine();

beforeAll(async () => {
  // Room for a short prompt's entry (a few tokens), not for a long one's.
  await engine.load(storiesDir(), { contextLength: 256, cacheBudgetBytes: 16 * 1280 });
});
afterAll(() => engine.unload());

describe('write-back of an entry larger than the whole cache budget', () => {
  it('answers, stores nothing and keeps what was there', async () => {
    const short = await engine.cache.add(SHORT);
    const ref = await engine.generate(LONG, { maxNewTokens: 8, reuse: { mode: 'none' }, cachePrompt: false });
    const r = await engine.generate(LONG, { maxNewTokens: 8, reuse: { mode: 'none' } });
    expect(r.tokenIds).toEqual(ref.tokenIds);
    expect(engine.cache.list().map((e) => e.id)).toEqual([short.id]);
  });

  it('cache.add of such a prompt is an InvalidArgumentError that names the budget', async () => {
    await expect(engine.cache.add(LONG)).rejects.toThrow(InvalidArgumentError);
    await expect(engine.cache.add(LONG)).rejects.toThrow(/more than the whole cache budget/);
    expect(engine.cache.list()).toHaveLength(1);
  });
});
