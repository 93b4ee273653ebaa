import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Engine } from '../../src/engine/engine.ts';
import { CacheEntryError } from '../../src/errors.ts';
import { cachedPrompts, parsePairsJsonl } from '../../src/eval/pairs.ts';
import type { KVEntry } from '../../src/kvshare/entry.ts';
import { createNodeTokenEngine } from '../../src/node/index.ts';
import type { KVArray } from '../../src/util/kv-dtype.ts';
import { storiesDir } from '../helpers/models.ts';

const pairs = parsePairsJsonl(
  readFileSync(new URL('../../bench/pairs/stories.jsonl', import.meta.url), 'utf8'),
).map((p) => ({ a: cachedPrompts(p)[0], b: p.b }));
const engine: Engine = createNodeTokenEngine();
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

  it('kvshare with r = 1 is token-identical to none: only the exact common prefix is not recomputed', async () => {
    for (const { a, b } of pairs.slice(6, 10)) {
      const ref = await answer(a, b, 'none');
      const r = await answer(a, b, 'kvshare', 1);
      expect(r.tokenIds).toEqual(ref.tokenIds);
      const s = r.reuse;
      expect(s.reusedTokens + s.recomputedTokens).toBe(s.promptTokens);
      const prefix = r.promptTokenIds.findIndex((t, i) => engine.tokenize(a)[i] !== t);
      expect(s.reusedTokens).toBe(prefix);
      expect(s.fates.slice(0, prefix).every((f) => f === 'reused')).toBe(true);
    }
  });

  it('kvshare reuses most of a similar prompt and reports stats and token fates', async () => {
    const { a, b } = pairs[2];
    const r = await answer(a, b, 'kvshare');
    const s = r.reuse;
    expect(s.reusedTokens).toBeGreaterThan(s.promptTokens / 2);
    expect(s.reusedTokens + s.recomputedTokens).toBe(s.promptTokens);
    // Past the exact prefix (in place from `a`'s live KV) rows come from a's entry, unless the cost
    // model found computing them cheaper.
    expect(s.entryIds).toHaveLength(s.path === 'prefix' ? 0 : 1);
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

  // Entries are validated once, where they enter the cache (put, IndexedDB read, pack import: see
  // test/kvshare/entry.test.ts); damage done to a held entry afterwards is caught by the output guard.
  // Entries hold f32 values or f16 bits (the default kvDtype): write NaN / +Inf in the array's own encoding.
  const bad = (a: KVArray, x: number) => {
    if (a instanceof Uint8Array) throw new Error('this test corrupts f32 or f16 entries');
    return a instanceof Uint16Array ? (Number.isNaN(x) ? 0x7e00 : 0x7c00) : x;
  };
  const corruptions: [string, (e: KVEntry) => void][] = [
    ['NaN in V', (e) => e.v[0].fill(bad(e.v[0], Number.NaN), 0, 32)],
    ['Inf in K', (e) => e.k[1].fill(bad(e.k[1], Number.POSITIVE_INFINITY), 0, 64)],
  ];
  // The GPU hot tier would keep serving its own (sound) copy of the entry: corrupt one with no hot tier.
  it.each(corruptions)(
    'an entry corrupted in memory (%s) is dropped by the output guard and the answer equals full compute',
    async (_, corrupt) => {
      const cold: Engine = createNodeTokenEngine();
      await cold.load(storiesDir(), { contextLength: 512, gpuCacheBudgetBytes: 0 });
      try {
        const { a, b } = pairs[3];
        const ask = (mode: 'none' | 'naive') =>
          cold.generate(b, { maxNewTokens: NEW, reuse: { mode }, cachePrompt: false });
        const ref = await ask('none');
        const meta = await cold.cache.add(a);
        corrupt((await cold.cache.get(meta.id))!); // the cache holds this object: corrupt it in place
        // The live KV still holds `a` (not an entry, never corrupted): move it on, so only the entry could be reused.
        await cold.generate(
          { tokenIds: [5, 6, 7] },
          { maxNewTokens: 1, reuse: { mode: 'none' }, cachePrompt: false },
        );
        const r = await ask('naive');
        expect(r.reuse.rejectedEntries).toBe(1);
        expect(r.reuse.reusedTokens).toBe(0);
        expect(r.tokenIds).toEqual(ref.tokenIds);
        expect(cold.cache.list()).toHaveLength(0);
      } finally {
        await cold.unload();
      }
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
