import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Engine } from '../../src/engine/engine.ts';
import type { ReuseOptions } from '../../src/engine/prefill.ts';
import { createNodeTokenEngine } from '../../src/node/index.ts';
import { storiesDir } from '../helpers/models.ts';

const engine: Engine = createNodeTokenEngine();

beforeAll(async () => {
  await engine.load(storiesDir(), { contextLength: 512 });
});
afterAll(() => engine.unload());

async function ask(cached: string, prompt: string, reuse: ReuseOptions) {
  await engine.cache.clear();
  if (reuse.mode !== 'none') await engine.cache.add(cached);
  return engine.generate(prompt, { maxNewTokens: 12, cachePrompt: false, reuse });
}

// Two unrelated stories sharing a common mid-story phrase ("One day, she went to the park").
const CACHED = 'Lily had a red kite. One day, she went to the park with her kite and her dog.';
const UNRELATED = 'The old man sat by the fire. One day, she went to the park to see the ducks swim.';
// A fixed preamble (as a chat template's system prompt) then two different questions.
const SYSTEM = 'You are a kind teacher who tells short happy stories to little children. ';

describe('retrieval gate', () => {
  it('an unrelated prompt reuses no common phrase: answers equal full compute', async () => {
    const ref = await ask(CACHED, UNRELATED, { mode: 'none' });
    const r = await ask(CACHED, UNRELATED, { mode: 'naive' });
    expect(r.reuse.reusedTokens).toBeLessThanOrEqual(1); // at most the shared BOS
    expect(r.tokenIds).toEqual(ref.tokenIds);
    // A permissive gate does reuse the shared phrase, so the default is what keeps it out.
    const loose = await ask(CACHED, UNRELATED, { mode: 'naive', minSimilarity: 0.01, minFragment: 2 });
    expect(loose.reuse.reusedTokens).toBeGreaterThan(3);
  });

  it('an exact shared prefix is still reused when the rest of the prompt fails the gate', async () => {
    const a = `${SYSTEM}Tell me about a cat who finds a hat in the garden and wears it all day long.`;
    const b = `${SYSTEM}What did the big brown bear eat for breakfast on a cold and rainy Monday morning?`;
    const prefix = engine.tokenize(SYSTEM.trim()).length - 1;
    const ref = await ask(a, b, { mode: 'none' });
    const r = await ask(a, b, { mode: 'naive', minSimilarity: 0.99 });
    expect(r.reuse.reusedTokens).toBeGreaterThanOrEqual(prefix);
    expect(r.reuse.fates.slice(0, prefix).every((f) => f === 'reused')).toBe(true);
    expect(r.tokenIds).toEqual(ref.tokenIds); // an exact prefix is lossless
  });
});
