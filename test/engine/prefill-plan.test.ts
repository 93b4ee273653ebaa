// The reuse planning alone, without a GPU: which rows stay in place, the exact prefix, what is patched
// from which entry, what is computed, and which path the cost model picks (src/engine/prefill-plan.ts).
import { describe, expect, it } from 'vitest';
import type { ReuseMode } from '../../src/api/reuse-options.ts';
import { CostModel } from '../../src/engine/cost-model.ts';
import { DEFAULT_REUSE } from '../../src/engine/prefill.ts';
import { type LiveRows, type PlanInputs, planPrefill, range } from '../../src/engine/prefill-plan.ts';
import type { Retrieved } from '../../src/engine/retrieve.ts';
import { type KVEntry, makeEntry } from '../../src/kvshare/entry.ts';
import { mulberry32 } from '../../src/util/prng.ts';
import { SMOLLM2_SHAPE } from '../helpers/shapes.ts';

// SmolLM2-135M's shape: scoring pays once a prompt has more than a few dozen approximate rows.
const cfg = SMOLLM2_SHAPE;

function entry(id: string, tokens: number[], opts: { exact?: boolean; positions?: number[] } = {}): KVEntry {
  const T = tokens.length;
  return makeEntry({
    id,
    fingerprint: 'f',
    tokens,
    positions: opts.positions,
    numLayers: 1,
    kvDim: 1,
    k: [new Float32Array(T)],
    v: [new Float32Array(T)],
    now: 0,
    exact: opts.exact,
  });
}

function inputs(
  mode: ReuseMode,
  found: Partial<Retrieved>,
  more: { live?: LiveRows | null; canScore?: boolean; recomputeRatio?: number } = {},
): PlanInputs {
  return {
    live: more.live ?? null,
    found: { entries: found.entries ?? [], prefixOnly: found.prefixOnly ?? [] },
    options: { ...DEFAULT_REUSE, mode, recomputeRatio: more.recomputeRatio ?? 0.15 },
    canScore: more.canScore ?? true,
    costs: new CostModel(cfg),
  };
}

/** Prompt positions the plan patches from entries. */
const patched = (p: ReturnType<typeof planPrefill>) => p.patchRows.flat().map((r) => r.dst);

const seq = (n: number, base = 100) => range(0, n).map((i) => base + i);

describe('planPrefill', () => {
  it('computes every row when nothing is found', () => {
    const ids = seq(20);
    const p = planPrefill(ids, inputs('kvshare', {}));
    expect(p.path).toBe('full');
    expect(p.computed).toEqual(range(0, 20));
    expect(p.reused).toEqual([]);
    expect(p.estimatedMs).toBe(p.estimatedFullMs);
  });

  it('keeps the live rows in place and computes only the rest (never the last row in place)', () => {
    const ids = seq(12);
    const live = { tokens: ids.slice(0, 8), exactRows: 8 };
    const p = planPrefill(ids, inputs('prefix', {}, { live }));
    expect(p.inPlace).toBe(8);
    expect(p.path).toBe('prefix');
    expect(p.computed).toEqual([8, 9, 10, 11]);
    expect(patched(p)).toEqual([]);

    const repeat = planPrefill(ids, inputs('kvshare', {}, { live: { tokens: ids, exactRows: 12 } }));
    expect(repeat.inPlace).toBe(11);
    expect(repeat.computed).toEqual([11]);
  });

  it('stops the in-place rows at the first inexact live row', () => {
    const ids = seq(12);
    const p = planPrefill(ids, inputs('prefix', {}, { live: { tokens: ids, exactRows: 5 } }));
    expect(p.inPlace).toBe(5);
    expect(p.computed).toEqual(range(5, 12));
  });

  it('takes the exact prefix of an exact entry as is, at the same positions', () => {
    const ids = seq(60);
    const e = entry('a', [...ids.slice(0, 40), ...seq(10, 900)], { exact: true });
    const p = planPrefill(ids, inputs('prefix', { entries: [e] }));
    expect(p.exactPrefix).toBe(40);
    expect(p.path).toBe('prefix');
    expect(p.patchRows[0]).toEqual(range(0, 40).map((i) => ({ src: i, dst: i, old: i })));
    expect(p.computed).toEqual(range(40, 60));
    expect(p.tail).toEqual([]);
  });

  it('an approximate entry: kvshare scores the tail, recomputes the unmatched rows and the top share', () => {
    // A 200-token prompt, the cached one differs in 10 tokens in the middle.
    const ids = seq(200);
    const old = ids.map((t, i) => (i >= 100 && i < 110 ? t + 5000 : t));
    const e = entry('a', old);
    const p = planPrefill(ids, inputs('kvshare', { entries: [e] }));
    expect(p.exactPrefix).toBe(0); // not an exact entry: nothing is exact
    expect(p.path).toBe('scored');
    expect(p.unmatched).toEqual([...range(100, 110), 199]);
    expect(p.tail).toEqual(p.reused);
    expect(p.reused.length).toBe(200 - 11);
    expect(p.take).toBe(Math.ceil(0.15 * p.reused.length));
    expect(p.computed).toEqual(p.unmatched);
    expect(patched(p)).toEqual(p.reused); // every reused row is patched, before scoring
    expect(p.estimatedMs).toBeLessThan(p.estimatedFullMs);
    expect(p.scoringSkipped).toBe(false);
  });

  it('without the scoring pass kvshare takes the exact prefix and says scoring was skipped', () => {
    const ids = seq(200);
    const e = entry(
      'a',
      ids.map((t, i) => (i === 150 ? t + 5000 : t)),
    );
    const p = planPrefill(ids, inputs('kvshare', { entries: [e] }, { canScore: false }));
    expect(p.path).not.toBe('scored');
    expect(p.scoringSkipped).toBe(true);
  });

  it('naive patches every match and computes only the unmatched rows and the last', () => {
    const ids = seq(50);
    const e = entry(
      'a',
      ids.map((t, i) => (i === 20 || i === 21 ? t + 5000 : t)),
    );
    const p = planPrefill(ids, inputs('naive', { entries: [e] }));
    expect(p.path).toBe('naive');
    expect(p.computed).toEqual([20, 21, 49]);
    expect(patched(p)).toEqual(range(0, 50).filter((i) => ![20, 21, 49].includes(i)));
  });

  it('an entry below the gate gives only its exact prefix', () => {
    const ids = seq(40);
    const below = entry('b', [...ids.slice(0, 6), ...seq(30, 700)], { exact: true });
    const p = planPrefill(ids, inputs('kvshare', { prefixOnly: [below] }));
    expect(p.exactPrefix).toBe(6);
    expect(patched(p)).toEqual(range(0, 6));
    expect(p.computed).toEqual(range(6, 40));
  });

  it('a reused row keeps the position its key was rotated at (old), moved to its new position (dst)', () => {
    // The cached prompt had 3 more tokens in front: every shared row moves back by 3.
    const ids = seq(80);
    const e = entry('a', [1, 2, 3, ...ids]);
    const p = planPrefill(ids, inputs('naive', { entries: [e] }));
    for (const r of p.patchRows[0]) {
      expect(r.old).toBe(r.src);
      expect(r.dst).toBe(r.src - 3);
    }
  });

  it('short prompts are not worth scoring: the cost model takes another path', () => {
    const ids = seq(6);
    const e = entry(
      'a',
      ids.map((t, i) => (i === 2 ? t + 5000 : t)),
    );
    const p = planPrefill(ids, inputs('kvshare', { entries: [e] }, { recomputeRatio: 0 }));
    expect(p.path).not.toBe('scored');
    expect(p.estimatedMs).toBeLessThanOrEqual(p.estimatedFullMs);
  });

  it('a reuse path estimated at or above a full prefill is not taken: ties go to full', () => {
    // Every path costs the same: the planner must not prefer a reuse path on a tie.
    class Flat extends CostModel {
      override ms(): number {
        return 10;
      }
    }
    const ids = seq(50);
    const e = entry(
      'a',
      ids.map((t, i) => (i === 20 ? t + 5000 : t)),
      { exact: true },
    );
    for (const mode of ['prefix', 'naive', 'kvshare'] as const) {
      const x = { ...inputs(mode, { entries: [e] }), costs: new Flat(cfg) };
      const p = planPrefill(ids, x);
      expect(p.path).toBe('full');
      expect(p.computed).toEqual(range(0, 50));
      expect(patched(p)).toEqual([]);
      expect(p.scoringSkipped).toBe(mode === 'kvshare');
    }
  });

  it('on random prompts and entries: every row is computed, patched or in place exactly once; the last row is always computed', () => {
    const rng = mulberry32(7);
    const pick = (n: number) => Math.floor(rng() * n);
    const modes: ReuseMode[] = ['prefix', 'naive', 'kvshare'];
    for (let trial = 0; trial < 300; trial++) {
      const N = 2 + pick(120);
      const ids = range(0, N).map(() => pick(12)); // a small vocabulary: many repeats
      const mutate = (t: number) => (rng() < 0.2 ? pick(12) : t);
      const entries = range(0, pick(3)).map((j) =>
        entry(`e${j}`, ids.slice(pick(4)).map(mutate), { exact: rng() < 0.5 }),
      );
      const liveRows = pick(N + 1);
      const live = rng() < 0.5 ? { tokens: ids.slice(0, liveRows), exactRows: pick(liveRows + 1) } : null;
      const mode = modes[pick(3)];
      // Retrieval gives prefix mode exact entries only (retrieve.ts).
      const found = { entries: mode === 'prefix' ? entries.filter((e) => e.exact) : entries };
      const p = planPrefill(ids, inputs(mode, found, { live, canScore: rng() < 0.7 }));

      expect(p.computed).toContain(N - 1);
      // A hit is never estimated slower than none: any path but full is strictly cheaper.
      if (p.path === 'full') expect(p.estimatedMs).toBe(p.estimatedFullMs);
      else expect(p.estimatedMs).toBeLessThan(p.estimatedFullMs);
      const dsts = patched(p);
      expect(new Set(dsts).size).toBe(dsts.length);
      for (const [i, rows] of p.patchRows.entries()) {
        for (const r of rows) {
          expect(p.entries[i].tokens[r.src]).toBe(ids[r.dst]); // the same token
          expect(r.old).toBe(p.entries[i].positions[r.src]);
        }
      }
      const inPlace = range(0, p.inPlace);
      if (p.path === 'scored') {
        // Scored: every row is in place, patched, or unmatched; the selected ones are recomputed later.
        expect([...inPlace, ...dsts, ...p.unmatched].sort((a, b) => a - b)).toEqual(range(0, N));
        expect(p.computed).toEqual(p.unmatched);
      } else if (p.path === 'full') {
        expect(p.computed).toEqual(range(0, N));
      } else {
        expect([...inPlace, ...dsts, ...p.computed].sort((a, b) => a - b)).toEqual(range(0, N));
      }
      if (mode === 'prefix') expect(p.tail).toEqual([]);
    }
  });
});
