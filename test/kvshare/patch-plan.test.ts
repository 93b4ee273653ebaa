import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../src/errors.ts';
import {
  type AlignSource,
  buildPatchPlan,
  lcsRunsBounded,
  type PatchPlan,
  planRuns,
  prefixPlan,
} from '../../src/kvshare/align.ts';
import { lcsDp, mulberry32, randomTokens } from './helpers.ts';

/** Every planned position copies a row holding the same token, from a source that exists, in range. */
function checkPlan(plan: PatchPlan, neu: ArrayLike<number>, sources: AlignSource[]): void {
  expect(plan.length).toBe(neu.length);
  expect(plan.srcEntry.length).toBe(neu.length);
  expect(plan.srcPos.length).toBe(neu.length);
  const byIndex = new Map(sources.map((s) => [s.entryIndex, s]));
  let reused = 0;
  for (let i = 0; i < neu.length; i++) {
    const e = plan.srcEntry[i];
    const p = plan.srcPos[i];
    if (e === -1) {
      expect(p).toBe(-1);
      continue;
    }
    reused++;
    const src = byIndex.get(e);
    expect(src).toBeDefined();
    expect(p).toBeGreaterThanOrEqual(0);
    expect(p).toBeLessThan(src!.tokens.length);
    expect(src!.tokens[p]).toBe(neu[i]);
  }
  expect(plan.reused).toBe(reused);
}

describe('buildPatchPlan', () => {
  it('upholds its invariants on random inputs with one to three sources', () => {
    const rng = mulberry32(2024);
    for (let trial = 0; trial < 200; trial++) {
      const neu = randomTokens(rng, Math.floor(rng() * 60), 4);
      const sources = Array.from({ length: 1 + (trial % 3) }, (_, s) => ({
        entryIndex: 10 + s,
        tokens: randomTokens(rng, Math.floor(rng() * 60), 4),
      }));
      for (const minRun of [1, 2, 3]) checkPlan(buildPatchPlan(neu, sources, { minRun }), neu, sources);
    }
  });

  it('with one source, minRun 1 and no stitching reuses exactly an LCS; stitching only adds', () => {
    const rng = mulberry32(77);
    for (let trial = 0; trial < 150; trial++) {
      const old = randomTokens(rng, Math.floor(rng() * 50), 3 + (trial % 4));
      const neu = randomTokens(rng, Math.floor(rng() * 50), 3 + (trial % 4));
      const sources = [{ entryIndex: 0, tokens: old }];
      const plain = buildPatchPlan(neu, sources, { minRun: 1, stitch: false });
      checkPlan(plain, neu, sources);
      expect(plain.reused).toBe(lcsDp(old, neu));
      // Monotone: source positions strictly increase along the new prompt.
      let last = -1;
      for (let i = 0; i < neu.length; i++) {
        if (plain.srcPos[i] < 0) continue;
        expect(plain.srcPos[i]).toBeGreaterThan(last);
        last = plain.srcPos[i];
      }
      const stitched = buildPatchPlan(neu, sources, { minRun: 1 });
      checkPlan(stitched, neu, sources);
      expect(stitched.reused).toBeGreaterThanOrEqual(plain.reused);
    }
  });

  it('stitches two entries to cover more than either alone', () => {
    // new = [BOS, clause X, clause Y]; entry A holds X, entry B holds Y, each with other material.
    const X = [11, 12, 13, 14, 15, 16];
    const Y = [21, 22, 23, 24, 25];
    const neu = [1, ...X, ...Y];
    const A = { entryIndex: 0, tokens: [1, ...X, 31, 32, 33, 34] };
    const B = { entryIndex: 1, tokens: [1, 41, 42, ...Y, 43] };
    const onlyA = buildPatchPlan(neu, [A]);
    const onlyB = buildPatchPlan(neu, [B]);
    const both = buildPatchPlan(neu, [A, B]);
    checkPlan(both, neu, [A, B]);
    expect(onlyA.reused).toBe(7);
    expect(onlyB.reused).toBe(6);
    expect(both.reused).toBe(neu.length);
    expect(both.reused).toBeGreaterThan(Math.max(onlyA.reused, onlyB.reused));
    expect(planRuns(both)).toEqual([
      { entryIndex: 0, newStart: 0, srcStart: 0, length: 7 },
      { entryIndex: 1, newStart: 7, srcStart: 3, length: 5 },
    ]);
  });

  it('recovers reordered clauses from the same entry', () => {
    const P = [31, 32, 33, 34];
    const Q = [41, 42, 43];
    const old = [1, ...P, 5, ...Q];
    const neu = [1, ...Q, 5, ...P];
    const src = [{ entryIndex: 3, tokens: old }];
    expect(buildPatchPlan(neu, src, { stitch: false }).reused).toBe(1 + P.length);
    const plan = buildPatchPlan(neu, src);
    checkPlan(plan, neu, src);
    expect(plan.reused).toBe(1 + P.length + Q.length);
    expect(Array.from(plan.srcPos.subarray(1, 4))).toEqual([6, 7, 8]);
  });

  it('drops runs shorter than minRun except the leading exact prefix', () => {
    const old = [1, 50, 7, 60, 8, 9, 70];
    const neu = [1, 51, 7, 61, 8, 9, 71];
    const src = [{ entryIndex: 0, tokens: old }];
    const plan = buildPatchPlan(neu, src, { minRun: 2 });
    expect(Array.from(plan.srcEntry)).toEqual([0, -1, -1, -1, 0, 0, -1]);
    expect(Array.from(plan.srcPos)).toEqual([0, -1, -1, -1, 4, 5, -1]);
    expect(buildPatchPlan(neu, src, { minRun: 1 }).reused).toBe(4);
    expect(buildPatchPlan(neu, src, { minRun: 3 }).reused).toBe(1);
  });

  it('takes a short leading exact prefix from a secondary source', () => {
    const neu = [1, 50, 51, 52, 53];
    const strong = { entryIndex: 0, tokens: [9, 50, 51, 52, 53] };
    const bos = { entryIndex: 1, tokens: [1, 77] };
    const plan = buildPatchPlan(neu, [strong, bos]);
    checkPlan(plan, neu, [strong, bos]);
    expect(Array.from(plan.srcEntry)).toEqual([1, 0, 0, 0, 0]);
    expect(Array.from(plan.srcPos)).toEqual([0, 1, 2, 3, 4]);
  });

  it('prefers the source that keeps the most tokens', () => {
    const neu = [1, 2, 3, 4, 5, 6, 7, 8];
    const weak = { entryIndex: 0, tokens: [1, 2, 9, 9, 9] };
    const strong = { entryIndex: 1, tokens: [1, 2, 3, 4, 5, 6, 0] };
    const plan = buildPatchPlan(neu, [weak, strong], { stitch: false });
    expect(plan.reused).toBe(6);
    expect(Array.from(plan.srcEntry.subarray(0, 6))).toEqual([1, 1, 1, 1, 1, 1]);
  });

  it('falls back to stitching when a source is too different to diff within the step budget', () => {
    const rng = mulberry32(5);
    const shared = randomTokens(rng, 40, 1000);
    const neu = [...randomTokens(rng, 300, 1000).map((t) => t + 2000), ...shared];
    const old = [...shared, ...randomTokens(rng, 300, 1000).map((t) => t + 4000)];
    const src = [{ entryIndex: 0, tokens: old }];
    expect(lcsRunsBounded(old, neu, 1000)).toBeNull();
    expect(lcsRunsBounded(old, neu, Number.POSITIVE_INFINITY)).toEqual([
      { oldStart: 0, newStart: 300, length: 40 },
    ]);
    const plan = buildPatchPlan(neu, src, { maxDiffSteps: 1000 });
    checkPlan(plan, neu, src);
    expect(plan.reused).toBe(40);
    expect(buildPatchPlan(neu, src, { maxDiffSteps: 1000, stitch: false }).reused).toBe(0);
  });

  it('plans nothing without sources or tokens, and rejects bad options', () => {
    expect(buildPatchPlan([1, 2, 3], []).reused).toBe(0);
    expect(Array.from(buildPatchPlan([1, 2], []).srcEntry)).toEqual([-1, -1]);
    expect(buildPatchPlan([], [{ entryIndex: 0, tokens: [1] }]).length).toBe(0);
    expect(() => buildPatchPlan([1], [{ entryIndex: 0, tokens: [1] }], { minRun: 0 })).toThrow(
      InvalidArgumentError,
    );
    const dup = [
      { entryIndex: 2, tokens: [1] },
      { entryIndex: 2, tokens: [1] },
    ];
    expect(() => buildPatchPlan([1], dup)).toThrow(/duplicate source entryIndex 2/);
    expect(() => buildPatchPlan([1], [{ entryIndex: -1, tokens: [1] }])).toThrow(InvalidArgumentError);
  });
});

describe('prefixPlan', () => {
  it('reuses the exact common prefix only, at zero shift', () => {
    const plan = prefixPlan([1, 5, 6, 7, 8], [1, 5, 6, 9, 7, 8], 4);
    expect(plan.reused).toBe(3);
    expect(Array.from(plan.srcEntry)).toEqual([4, 4, 4, -1, -1]);
    expect(Array.from(plan.srcPos)).toEqual([0, 1, 2, -1, -1]);
  });

  it('handles a new prompt that extends, shortens or misses the cached one', () => {
    expect(prefixPlan([1, 2, 3, 4], [1, 2]).reused).toBe(2);
    expect(prefixPlan([1, 2], [1, 2, 3, 4]).reused).toBe(2);
    expect(prefixPlan([9, 2], [1, 2]).reused).toBe(0);
    expect(prefixPlan([], [1]).length).toBe(0);
    expect(Array.from(prefixPlan([1, 2], [1, 2]).srcEntry)).toEqual([0, 0]);
  });
});

describe('planRuns', () => {
  it('splits on entry changes, position jumps and unplanned rows', () => {
    const plan = {
      length: 6,
      srcEntry: Int32Array.from([0, 0, -1, 0, 1, 1]),
      srcPos: Int32Array.from([3, 4, -1, 9, 0, 1]),
      reused: 5,
    };
    expect(planRuns(plan)).toEqual([
      { entryIndex: 0, newStart: 0, srcStart: 3, length: 2 },
      { entryIndex: 0, newStart: 3, srcStart: 9, length: 1 },
      { entryIndex: 1, newStart: 4, srcStart: 0, length: 2 },
    ]);
  });
});
