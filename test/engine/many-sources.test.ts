// Many sources in one prompt (issue 25): k >= 8 cached chunks quoted in a shuffled order plus new text.
// Retrieval admits every quoted chunk (each a small share of the prompt, but quoted whole), and the plan
// takes each chunk's rows from its own entry, re-rotated to their new positions. No GPU.
import { describe, expect, it } from 'vitest';
import { CostModel } from '../../src/engine/cost-model.ts';
import { DEFAULT_REUSE, resolveReuse } from '../../src/engine/prefill.ts';
import { planPrefill, range } from '../../src/engine/prefill-plan.ts';
import { quotedShare, retrieve } from '../../src/engine/retrieve.ts';
import { MemoryEntryCache } from '../../src/kvshare/entry-cache.ts';
import { MemoryTier } from '../../src/kvshare/memory-tier.ts';
import { SMOLLM2_SHAPE } from '../helpers/shapes.ts';
import { MODEL, mulberry32, randomTokens, syntheticEntry } from '../kvshare/helpers.ts';

const BOS = 1;
const K = 8;

function setup(seed: number) {
  const rng = mulberry32(seed);
  // K chunks of 40–80 tokens over a large vocabulary, each cached after a BOS (as addDocument stores them).
  const chunks = range(0, K).map(() =>
    randomTokens(rng, 40 + Math.floor(rng() * 40), 30000).map((t) => t + 2),
  );
  const order = range(0, K).sort(() => rng() - 0.5);
  if (order.every((c, i) => c === i)) order.reverse();
  const question = randomTokens(rng, 12, 30000).map((t) => t + 2);
  const prompt = [BOS, ...order.flatMap((c) => chunks[c]), ...question];
  return { chunks, order, prompt };
}

async function cacheOf(chunks: number[][]) {
  const memory = new MemoryTier({ ...MODEL, budgetBytes: 64 << 20 });
  const cache = new MemoryEntryCache(memory);
  for (const [i, c] of chunks.entries()) await cache.store(syntheticEntry(`doc#${i}`, [BOS, ...c]));
  return { cache, expect: memory.expect };
}

describe('many cached chunks in one prompt', () => {
  it('retrieval admits all 8 quoted chunks past the gate, though each holds < 25% of the prompt', async () => {
    const { chunks, prompt } = setup(1);
    const { cache, expect: ex } = await cacheOf(chunks);
    for (const m of cache.query(prompt, K)) expect(m.similarity).toBeLessThan(DEFAULT_REUSE.minSimilarity);
    const found = await retrieve(cache, prompt, resolveReuse({ mode: 'kvshare' }, DEFAULT_REUSE), ex);
    expect(found.entries.map((e) => e.id).sort()).toEqual(range(0, K).map((i) => `doc#${i}`));
    // The former default of 2 sources would stitch from 2 of the 8 only.
    const two = await retrieve(
      cache,
      prompt,
      resolveReuse({ mode: 'kvshare', maxSources: 2 }, DEFAULT_REUSE),
      ex,
    );
    expect(two.entries).toHaveLength(2);
  });

  it("quotedShare counts the share of an entry's 3-grams the prompt holds", () => {
    const grams = new Set(['1,2,3', '2,3,4']);
    expect(quotedShare([1, 2, 3, 4], grams)).toBe(1);
    expect(quotedShare([1, 2, 3, 9, 9], grams)).toBeCloseTo(1 / 3);
    expect(quotedShare([1, 2], grams)).toBe(0);
  });

  it('an unrelated entry stays below the gate', async () => {
    const { chunks, prompt } = setup(2);
    const { cache, expect: ex } = await cacheOf(chunks.slice(0, 1));
    await cache.store(
      syntheticEntry('other', [BOS, ...randomTokens(mulberry32(9), 60, 30000).map((t) => t + 2)]),
    );
    const found = await retrieve(cache, prompt, resolveReuse({ mode: 'kvshare' }, DEFAULT_REUSE), ex);
    expect(found.entries.map((e) => e.id)).not.toContain('other');
  });

  it('the plan takes every chunk from its own entry, in the prompt order, moved to its new positions', async () => {
    for (const seed of [3, 4, 5]) {
      const { chunks, order, prompt } = setup(seed);
      const { cache, expect: ex } = await cacheOf(chunks);
      const o = resolveReuse({ mode: 'naive' }, DEFAULT_REUSE);
      const found = await retrieve(cache, prompt, o, ex);
      const p = planPrefill(prompt, {
        live: null,
        found,
        options: o,
        canScore: true,
        costs: new CostModel(SMOLLM2_SHAPE),
      });
      expect(p.path).toBe('naive');
      let at = 1; // after the prompt's BOS
      for (const c of order) {
        const e = p.entries.findIndex((x) => x.id === `doc#${c}`);
        const rows = p.patchRows[e].filter((r) => r.dst >= at && r.dst < at + chunks[c].length);
        // Every row of the chunk (its last one too, unless it ends the prompt) from entry rows 1.. (after BOS).
        expect(rows.map((r) => r.dst)).toEqual(range(at, at + chunks[c].length));
        expect(rows.map((r) => r.src)).toEqual(range(1, chunks[c].length + 1));
        expect(rows.every((r) => r.old === r.src)).toBe(true);
        at += chunks[c].length;
      }
      // The question is new: computed.
      expect(p.computed).toEqual(range(at, prompt.length));
    }
  });
});
