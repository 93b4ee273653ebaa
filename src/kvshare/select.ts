/**
 * Deviation-based token selection (docs/DESIGN.md, Select): which reused rows to recompute before the first
 * token. A selector turns per-row signals from the scoring pass into an order over the reused rows; the
 * first `take` of that order are recomputed, the rest stay stale (and are trickled while decoding).
 *
 * Signals (per prompt position, from the scoring pass that refreshes layers 0–1 for every row):
 *  - `paper` — alpha_j · |V1_fresh[j] − V1_cached[j]|_1, alpha_j the head-averaged layer-1 attention of one
 *    probe query (the second-to-last prompt row): the KVShare paper's score;
 *  - `dv`, `dk` — |ΔV1|_1 and |ΔK1|_1 (the cached key already re-rotated to its new position);
 *  - `oracle` — the true K/V error of the patched row over every layer against a full computation
 *    (diagnostic: it needs that full computation, so it can never save time).
 *
 * Selectors: `paper`, `dv` (CacheBlend-style ‖ΔV‖₁), `dkv` (‖ΔV‖₁ + ‖ΔK‖₁, each scaled by its mean over the
 * reused rows, so neither dominates by magnitude), `random` (seeded; the floor a selector must beat) and
 * `oracle` (the ceiling). See src/engine/reuse.ts for the measurements behind the default.
 */
import type { SelectorName } from '../api/reuse.ts';
import { InvalidArgumentError } from '../errors.ts';
import { mulberry32 } from '../util/prng.ts';

export type { SelectorName } from '../api/reuse.ts';
export const SELECTORS: readonly SelectorName[] = ['paper', 'dv', 'dkv', 'random', 'oracle'];

/** Per-position signals, each [N] over the prompt; a selector reads only the ones it needs. */
export interface SelectSignals {
  paper?: Float32Array;
  dv?: Float32Array;
  dk?: Float32Array;
  oracle?: Float32Array;
}

/** The signals `name` needs from the scoring pass. */
export function signalsFor(name: SelectorName): (keyof SelectSignals)[] {
  switch (name) {
    case 'paper':
      return ['paper'];
    case 'dv':
      return ['dv'];
    case 'dkv':
      return ['dv', 'dk'];
    case 'oracle':
      return ['oracle'];
    case 'random':
      return [];
  }
}

export function checkSelector(name: string): SelectorName {
  if (!SELECTORS.includes(name as SelectorName))
    throw new InvalidArgumentError(`reuse selector must be one of ${SELECTORS.join(', ')} (got ${name})`);
  return name as SelectorName;
}

/**
 * The reused positions, most worth recomputing first (ties: earlier position first). `seed` drives
 * `random` only. Throws InvalidArgumentError when a needed signal is missing or shorter than a position.
 */
export function rankReused(
  name: SelectorName,
  reused: readonly number[],
  signals: SelectSignals,
  seed = 0,
): number[] {
  if (name === 'random') {
    const rng = mulberry32(seed);
    const out = [...reused];
    for (let i = out.length - 1; i > 0; i--) {
      const j = Math.floor(rng() * (i + 1));
      [out[i], out[j]] = [out[j], out[i]];
    }
    return out;
  }
  const need = signalsFor(name).map((k) => {
    const s = signals[k];
    if (!s || reused.some((p) => p >= s.length))
      throw new InvalidArgumentError(`selector ${name} needs the ${k} signal for every reused row`);
    return s;
  });
  const score = new Map<number, number>();
  const means = need.map((s) => mean(reused.map((p) => s[p])) || 1);
  for (const p of reused) {
    let v = 0;
    need.forEach((s, k) => {
      v += need.length === 1 ? s[p] : s[p] / means[k];
    });
    score.set(p, Number.isFinite(v) ? v : 0);
  }
  return [...reused].sort((a, b) => score.get(b)! - score.get(a)! || a - b);
}

const mean = (xs: number[]) => (xs.length ? xs.reduce((s, x) => s + x, 0) / xs.length : 0);
