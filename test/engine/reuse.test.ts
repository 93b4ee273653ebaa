import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Engine } from '../../src/engine/engine.ts';
import { CacheEntryError } from '../../src/errors.ts';
import type { KVEntry } from '../../src/kvshare/entry.ts';
import { cachedPrompts, parsePairsJsonl } from '../../src/kvshare/pairs.ts';
import { createNodeEngine } from '../../src/node/index.ts';
import { storiesDir } from '../helpers/models.ts';

const pairs = parsePairsJsonl(
  readFileSync(new URL('../../bench/pairs/stories.jsonl', import.meta.url), 'utf8'),
).map((p) => ({ a: cachedPrompts(p)[0], b: p.b }));
const engine: Engine = createNodeEngine();
const NEW = 24;

beforeAll(async () => {
  await engine.load(storiesDir(), { contextLength: 512 });
});
afterAll(() => engine.unload());

/** Answer b with `mode` after caching a (prefill only) in an empty cache. */
async function answer(
  a: string,
  b: string,
  mode: 'none' | 'prefix' | 'naive' | 'kvshare',
  recomputeRatio = 0.15,
) {
  await engine.cache.clear();
  if (mode !== 'none') await engine.cache.add(a);
  return engine.generate(b, { maxNewTokens: NEW, reuse: { mode, recomputeRatio }, cachePrompt: false });
}

describe('reuse modes against full computation', () => {
  it('prefix reuse is lossless: token-identical to none, with rows reused', async () => {
    let reused = 0;
    for (const { a, b } of pairs.slice(0, 6)) {
      const ref = await answer(a, b, 'none');
      const r = await answer(a, b, 'prefix');
      expect(r.tokenIds).toEqual(ref.tokenIds);
      reused += r.reuse.reusedTokens;
    }
    expect(reused).toBeGreaterThan(0);
  });

  it('an identical prompt in prefix mode reuses every row but the last', async () => {
    const { a } = pairs[0];
    const ref = await answer(a, a, 'none');
    const r = await answer(a, a, 'prefix');
    expect(r.tokenIds).toEqual(ref.tokenIds);
    expect(r.reuse.reusedTokens).toBe(r.reuse.promptTokens - 1);
  });

  it('kvshare with r = 1 is token-identical to none', async () => {
    for (const { a, b } of pairs.slice(6, 10)) {
      const ref = await answer(a, b, 'none');
      const r = await answer(a, b, 'kvshare', 1);
      expect(r.tokenIds).toEqual(ref.tokenIds);
      expect(r.reuse.recomputedTokens).toBe(r.reuse.promptTokens);
    }
  });

  it('kvshare reuses most of a similar prompt and reports stats and token fates', async () => {
    const { a, b } = pairs[2];
    const r = await answer(a, b, 'kvshare');
    const s = r.reuse;
    expect(s.reusedTokens).toBeGreaterThan(s.promptTokens / 2);
    expect(s.reusedTokens + s.recomputedTokens).toBe(s.promptTokens);
    expect(s.entryIds).toHaveLength(1);
    expect(s.fates).toHaveLength(s.promptTokens);
    expect(s.fates.filter((f) => f === 'reused').length).toBe(s.reusedTokens);
    expect(s.fates.at(-1)).toBe('new');
    expect(s.fates).toContain('recomputed');
    expect(engine.cache.stats().hits).toBeGreaterThan(0);
  });
});

describe('cache entries that must not be used', () => {
  async function cachedEntry(text: string): Promise<KVEntry> {
    await engine.cache.clear();
    const meta = await engine.cache.add(text);
    return (await engine.cache.get(meta.id))!;
  }

  it('an entry of another model (fingerprint) is refused with a typed error', async () => {
    const e = await cachedEntry(pairs[0].a);
    await engine.cache.clear();
    await expect(
      engine.cache.put({ ...e, id: 'foreign', fingerprint: 'f'.repeat(64) }),
    ).rejects.toBeInstanceOf(CacheEntryError);
    await expect(
      engine.cache.put({ ...e, id: 'short', numLayers: 4, k: e.k.slice(0, 4), v: e.v.slice(0, 4) }),
    ).rejects.toBeInstanceOf(CacheEntryError);
    expect(engine.cache.list()).toHaveLength(0);
  });

  const corruptions: [string, (e: KVEntry) => void][] = [
    ['truncated K buffer', (e) => (e.k[2] = e.k[2].subarray(0, 17))],
    ['missing layer', (e) => e.v.pop()],
    ['wrong kvDim', (e) => (e.kvDim = e.kvDim + 1)],
    ['NaN in V', (e) => (e.v[0][5] = Number.NaN)],
    ['positions length mismatch', (e) => (e.positions = e.positions.subarray(1))],
  ];
  it.each(corruptions)(
    'a corrupted entry (%s) is dropped and the request falls back to full compute',
    async (_, corrupt) => {
      const { a, b } = pairs[3];
      const ref = await answer(a, b, 'none');
      const e = await cachedEntry(a);
      corrupt(e); // the cache holds this object: corrupt it in place, as a bad write would
      const r = await engine.generate(b, {
        maxNewTokens: NEW,
        reuse: { mode: 'kvshare' },
        cachePrompt: false,
      });
      expect(r.reuse.rejectedEntries).toBe(1);
      expect(r.reuse.reusedTokens).toBe(0);
      expect(r.tokenIds).toEqual(ref.tokenIds);
      expect(engine.cache.list()).toHaveLength(0);
    },
  );
});

describe('write-back', () => {
  it('each answer is stored (prompt + answer) and a follow-up turn reuses it as an exact prefix', async () => {
    await engine.cache.clear();
    const first = await engine.generate(pairs[4].a, { maxNewTokens: 8, reuse: { mode: 'prefix' } });
    expect(engine.cache.list()).toHaveLength(1);
    expect(engine.cache.list()[0].numTokens).toBe(first.promptTokenIds.length + 7);
    const followUp = [...first.promptTokenIds, ...first.tokenIds, 403, 407];
    const r = await engine.generate(
      { tokenIds: followUp },
      { maxNewTokens: 8, reuse: { mode: 'prefix' }, cachePrompt: false },
    );
    expect(r.reuse.reusedTokens).toBe(first.promptTokenIds.length + 7);
    const ref = await engine.generate(
      { tokenIds: followUp },
      { maxNewTokens: 8, reuse: { mode: 'none' }, cachePrompt: false },
    );
    expect(r.tokenIds).toEqual(ref.tokenIds);
  });
});

describe('retrieval of entries that hold a long answer', () => {
  it('a similar prompt reuses an earlier prompt whose stored entry also holds a long answer', async () => {
    await engine.cache.clear();
    const first = await engine.generate('Once upon a time, Lily found a red ball in the park.', {
      maxNewTokens: 96,
      ignoreEos: true,
      reuse: { mode: 'none' },
    });
    const [stored] = engine.cache.list();
    expect(stored.numTokens).toBe(first.promptTokenIds.length + 95); // prompt + answer (less the last token)
    const r = await engine.generate('Once upon a time, Tom found a blue ball in the park.', {
      maxNewTokens: 4,
      cachePrompt: false,
    });
    expect(r.reuse.entryIds).toEqual([stored.id]);
    expect(r.reuse.reusedTokens).toBeGreaterThan(r.reuse.promptTokens / 2);
  });
});
