/**
 * Deviation-based token selection (docs/DESIGN.md, Select): which reused rows to recompute before the first
 * token. A selector turns per-row signals from the scoring pass into an order over the reused rows; the
 * first `take` of that order are recomputed, the rest stay stale (and are trickled while decoding).
 *
 * Signals (`ScoreSignal`, per prompt position, from the scoring pass that refreshes layers 0–1 for every row):
 *  - `paper` — alpha_j · |V1_fresh[j] − V1_cached[j]|_1, alpha_j the head-averaged layer-1 attention of one
 *    probe query (the second-to-last prompt row): the KVShare paper's score;
 *  - `dv`, `dk` — |ΔV1|_1 and |ΔK1|_1 (the cached key already re-rotated to its new position).
 *
 * Selectors (`SelectorName`): `paper`, `dv` (CacheBlend-style ‖ΔV‖₁), `dkv` (‖ΔV‖₁ + ‖ΔK‖₁, each scaled by
 * its mean over the reused rows, so neither dominates by magnitude). The evaluation's floor and ceiling
 * (`random`, `oracle`) are research tools and live in src/eval/selectors.ts. See src/engine/prefill.ts for
 * the measurements behind the default.
 */
import type { ScoreSignal, SelectorName } from '../api/reuse-options.ts';
import { InvalidArgumentError } from '../errors.ts';

export type { ScoreSignal, SelectorName } from '../api/reuse-options.ts';
export const SELECTORS: readonly SelectorName[] = ['paper', 'dv', 'dkv'];

/** Per-position signal values, each [N] over the prompt; a selector reads only the ones it needs. */
export type ScoreSignals = Partial<Record<ScoreSignal, Float32Array>>;

/** Ranks the reused rows, most worth recomputing first, from the scoring pass's signals. */
export interface RowRanker {
  /** The signals `rank` reads (the scoring pass reads back only these). */
  readonly signals: readonly ScoreSignal[];
  rank(reused: readonly number[], signals: ScoreSignals): number[];
}

const SIGNALS: Record<SelectorName, readonly ScoreSignal[]> = {
  paper: ['paper'],
  dv: ['dv'],
  dkv: ['dv', 'dk'],
};

/** The signals `name` needs from the scoring pass. */
export function signalsFor(name: SelectorName): readonly ScoreSignal[] {
  return SIGNALS[name];
}

export function checkSelector(name: string): SelectorName {
  if (!SELECTORS.includes(name as SelectorName))
    throw new InvalidArgumentError(`reuse selector must be one of ${SELECTORS.join(', ')} (got ${name})`);
  return name as SelectorName;
}

/** The built-in selector `name` as a ranker. */
export function selector(name: SelectorName): RowRanker {
  return { signals: signalsFor(name), rank: (reused, signals) => rankReused(name, reused, signals) };
}

/**
 * The reused positions, most worth recomputing first (ties: earlier position first). Throws
 * InvalidArgumentError when a needed signal is missing or shorter than a position.
 */
export function rankReused(name: SelectorName, reused: readonly number[], signals: ScoreSignals): number[] {
  const need = signalsFor(name).map((k) => {
    const s = signals[k];
    if (!s || reused.some((p) => p >= s.length))
      throw new InvalidArgumentError(`selector ${name} needs the ${k} signal for every reused row`);
    return s;
  });
  const means = need.map((s) => mean(reused.map((p) => s[p])) || 1);
  return rankByScore(reused, (p) => {
    let v = 0;
    need.forEach((s, k) => {
      v += need.length === 1 ? s[p] : s[p] / means[k];
    });
    return v;
  });
}

/** `reused` ordered by `score` (largest first; ties: earlier position first; not finite counts as 0). */
export function rankByScore(reused: readonly number[], score: (p: number) => number): number[] {
  const s = new Map<number, number>();
  for (const p of reused) {
    const v = score(p);
    s.set(p, Number.isFinite(v) ? v : 0);
  }
  return [...reused].sort((a, b) => s.get(b)! - s.get(a)! || a - b);
}

const mean = (xs: number[]) => (xs.length ? xs.reduce((s, x) => s + x, 0) / xs.length : 0);
