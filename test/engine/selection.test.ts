import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Engine } from '../../src/engine/engine.ts';
import type { EngineHooks } from '../../src/engine/hooks.ts';
import { DEFAULT_REUSE } from '../../src/engine/prefill.ts';
import { evalReuse } from '../../src/eval/eval-reuse.ts';
import { cachedPrompts, parsePairsJsonl } from '../../src/eval/pairs.ts';
import { researchSelector } from '../../src/eval/selectors.ts';
import type { SelectorName } from '../../src/kvshare/select.ts';
import { createNodeTokenEngine } from '../../src/node/index.ts';
import { kvToF32 } from '../../src/util/kv-dtype.ts';
import { storiesDir } from '../helpers/models.ts';

const hooks: EngineHooks = {};
const engine: Engine = createNodeTokenEngine(hooks);
const stories = parsePairsJsonl(
  readFileSync(new URL('../../bench/pairs/stories.jsonl', import.meta.url), 'utf8'),
);

beforeAll(async () => {
  await engine.load(storiesDir(), { contextLength: 512 });
});
afterAll(() => engine.unload());

/** Layer-1 V of every row of `ids` computed from scratch: [N, kvDim]. */
async function layer1V(ids: number[]): Promise<Float32Array> {
  await engine.cache.clear();
  const meta = await engine.cache.add({ tokenIds: ids });
  const e = (await engine.cache.get(meta.id))!;
  return kvToF32(e.v[1], e.q8Group ?? 0);
}

describe('deviation-based selection', () => {
  // A prompt whose early context changed: one token near the start differs, the rest is the same.
  let aIds: number[] = [];
  let bIds: number[] = [];
  let trueDev: Float32Array; // [N] |V1_b[p] - V1_a[p]|_1: what reusing row p of a really gets wrong
  const edit = 4;

  beforeAll(async () => {
    aIds = engine.tokenize(cachedPrompts(stories[1])[0]);
    bIds = aIds.slice();
    bIds[edit] = aIds[edit] === 300 ? 301 : 300;
    const va = await layer1V(aIds);
    const vb = await layer1V(bIds);
    const d = va.length / aIds.length;
    trueDev = new Float32Array(aIds.length);
    for (let p = 0; p < aIds.length; p++)
      for (let c = p * d; c < (p + 1) * d; c++) trueDev[p] += Math.abs(vb[c] - va[c]);
  });

  async function recomputed(select: SelectorName): Promise<number[]> {
    await engine.cache.clear();
    await engine.cache.add({ tokenIds: aIds });
    const r = await engine.generate(
      { tokenIds: bIds },
      { maxNewTokens: 1, cachePrompt: false, reuse: { mode: 'kvshare', select, recomputeRatio: 0.15 } },
    );
    expect(r.reuse.fates[edit]).toBe('new');
    return r.reuse.fates.flatMap((f, p) => (f === 'recomputed' ? [p] : []));
  }

  it('rows before the edit do not deviate; rows after it do', () => {
    for (let p = 0; p < edit; p++) expect(trueDev[p]).toBe(0);
    const after = [...trueDev.subarray(edit + 1)];
    expect(Math.min(...after)).toBeGreaterThan(0);
  });

  it('dv recomputes exactly the reused rows whose layer-1 V deviate most', async () => {
    const chosen = await recomputed('dv');
    const reused = [...trueDev.keys()].filter((p) => p !== edit && p !== aIds.length - 1);
    const top = reused.sort((x, y) => trueDev[y] - trueDev[x]).slice(0, chosen.length);
    expect(chosen.length).toBe(Math.ceil(0.15 * reused.length));
    expect(chosen).toEqual(top.sort((x, y) => x - y));
  });

  it('r = 0 recomputes no reused row under any selector, the oracle included', async () => {
    for (const select of ['oracle', 'random'] as const) {
      await engine.cache.clear();
      await engine.cache.add({ tokenIds: aIds });
      hooks.selector = researchSelector(select);
      const r = await engine
        .generate(
          { tokenIds: bIds },
          { maxNewTokens: 1, cachePrompt: false, reuse: { mode: 'kvshare', recomputeRatio: 0 } },
        )
        .finally(() => {
          hooks.selector = null;
        });
      expect(r.reuse.fates).not.toContain('recomputed');
      expect(r.reuse.recomputedTokens).toBe(2); // the edited row and the last one
    }
  });

  it('the default selector recomputes only rows after the edit, far above the stale rows in deviation', async () => {
    const chosen = await recomputed(DEFAULT_REUSE.select);
    expect(Math.min(...chosen)).toBeGreaterThan(edit);
    const mean = (ps: number[]) => ps.reduce((s, p) => s + trueDev[p], 0) / ps.length;
    const stale = [...trueDev.keys()].filter((p) => p !== edit && p < aIds.length - 1 && !chosen.includes(p));
    expect(mean(chosen)).toBeGreaterThan(2 * mean(stale));
  });
});

describe('kvshare against naive reuse on bench/pairs/stories.jsonl', () => {
  it('answers at least as often identically to full compute, with at least the token agreement (r = 0.15)', async () => {
    const report = await evalReuse({ engine, hooks }, stories.slice(0, 8), {
      modes: ['naive', 'kvshare'],
      recomputeRatio: 0.15,
      maxNewTokens: 16,
    });
    const [naive, kvshare] = report.summary;
    expect(naive.mode).toBe('naive');
    expect(kvshare.select).toBe(DEFAULT_REUSE.select);
    expect(kvshare.identical).toBeGreaterThanOrEqual(naive.identical);
    expect(kvshare.tokenAgreement).toBeGreaterThanOrEqual(naive.tokenAgreement);
    expect(kvshare.firstTokenKl).toBeLessThanOrEqual(naive.firstTokenKl);
    expect(kvshare.reusedFraction).toBeGreaterThan(0.5);
  });
});
