/**
 * The evaluation's floor and ceiling for kvshare's selection (src/kvshare/select.ts), injected through
 * EngineHooks: `random` (a seeded shuffle: what a selector must beat) and `oracle` (the true K/V error of
 * every patched row against a full computation of the prompt: it costs a full prefill, so it measures how
 * good a selector could be and never saves time).
 */
import type { RowSelector } from '../engine/hooks.ts';
import { InternalError, InvalidArgumentError } from '../errors.ts';
import { rankByScore, SELECTORS, type SelectorName } from '../kvshare/select.ts';
import { readCacheRows } from '../llama/reuse-kit.ts';
import type { LlamaRunner } from '../llama/runner.ts';
import { type KVArray, kvToF32 } from '../util/kv-dtype.ts';
import { mulberry32 } from '../util/prng.ts';

/** A selector the evaluation compares: the engine's own, or one of its research selectors. */
export type EvalSelector = SelectorName | 'random' | 'oracle';
export const EVAL_SELECTORS: readonly EvalSelector[] = [...SELECTORS, 'random', 'oracle'];

export function checkEvalSelector(name: string): EvalSelector {
  if (!EVAL_SELECTORS.includes(name as EvalSelector))
    throw new InvalidArgumentError(`selector must be one of ${EVAL_SELECTORS.join(', ')} (got ${name})`);
  return name as EvalSelector;
}

/** The research selector `name`, or null for one of the engine's own (passed as `reuse.select`). */
export function researchSelector(name: EvalSelector, seed = 0): RowSelector | null {
  if (name === 'random') return randomSelector(seed);
  if (name === 'oracle') return oracleSelector();
  return null;
}

/** A seeded permutation of the reused positions. */
export function shuffled(reused: readonly number[], seed: number): number[] {
  const rng = mulberry32(seed);
  const out = [...reused];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

export function randomSelector(seed: number): RowSelector {
  return { name: 'random', signals: [], rank: async (reused) => shuffled(reused, seed) };
}

export function oracleSelector(): RowSelector {
  let fresh: FreshKV | null = null;
  let n = 0;
  return {
    name: 'oracle',
    signals: [],
    beforePatch: async (runner, ids) => {
      fresh = await freshKV(runner, ids);
      n = ids.length;
    },
    rank: async (reused, _signals, runner) => {
      if (!fresh) throw new InternalError('internal error: the oracle ranks only after its beforePatch');
      const err = await kvError(runner, fresh, n);
      fresh = null;
      return rankByScore(reused, (p) => err[p]);
    },
  };
}

interface FreshKV {
  k: KVArray[]; // L × [n, kvDim]
  v: KVArray[]; // L × [n, kvDim]
}

/** Compute every row of the prompt from scratch and read its K/V back (call before patching). */
async function freshKV(runner: LlamaRunner, ids: number[]): Promise<FreshKV> {
  await runner.forward(
    ids.map((token, position) => ({ token, position })),
    { logitRows: [ids.length - 1] },
  );
  return readCacheRows(runner, ids.length);
}

/**
 * Per position p < n: Σ over layers l of (|K_l[p] − FK_l[p]|_1 + |V_l[p] − FV_l[p]|_1) / m_l, FK/FV the
 * fresh rows, K/V the live cache now, m_l the mean fresh |FK_l[p]|_1 + |FV_l[p]|_1 (layers weigh alike). [n]
 */
async function kvError(runner: LlamaRunner, fresh: FreshKV, n: number): Promise<Float32Array> {
  const live = await readCacheRows(runner, n);
  const d = runner.cache.kvDim;
  const err = new Float32Array(n); // [n]
  for (let l = 0; l < fresh.k.length; l++) {
    const [fk, fv, lk, lv] = [fresh.k[l], fresh.v[l], live.k[l], live.v[l]].map((a) =>
      kvToF32(a, runner.cache.group),
    ); // [n, kvDim] each
    let norm = 0;
    const row = new Float32Array(n); // [n]
    for (let p = 0; p < n; p++) {
      for (let c = p * d; c < (p + 1) * d; c++) {
        norm += Math.abs(fk[c]) + Math.abs(fv[c]);
        row[p] += Math.abs(lk[c] - fk[c]) + Math.abs(lv[c] - fv[c]);
      }
    }
    const m = norm / n || 1;
    for (let p = 0; p < n; p++) err[p] += row[p] / m;
  }
  return err;
}
