/**
 * Deciding how a prompt gets into the live KV cache, with no GPU work (docs/DESIGN.md, Plan the path):
 * which leading rows stay in place from the previous turn, the exact prefix, which rows come from which
 * cache entry, which are unmatched, and which path the cost model picks. `prefillWithReuse`
 * (prefill.ts) carries the plan out on the GPU.
 */
import type { ReuseOptions } from '../api/reuse-options.ts';
import type { KVEntry } from '../kvshare/entry.ts';
import type { PatchRow } from '../llama/reuse-kit.ts';
import type { CostModel, PathWork, PrefillPath } from './cost-model.ts';
import { commonPrefix, planReuse, type Retrieved, takeExactPrefix } from './retrieve.ts';

/** What the live KV cache holds: rows [0, exactRows) equal a full computation of `tokens`. */
export interface LiveRows {
  tokens: number[];
  exactRows: number;
}

/** The decisions of one prefill. Positions are prompt positions 0..N-1, ascending in every list. */
export interface PrefillPlan {
  /** Prompt length N. */
  length: number;
  /** Rows [0, inPlace) stay in the live cache from the previous request (neither patched nor computed). */
  inPlace: number;
  /** Rows [0, exactPrefix) are exact: in place, or taken from an exact entry at the same positions. */
  exactPrefix: number;
  /** Rows with a source (in place, or a cache entry's row); the last row never has one. */
  reused: number[];
  /** Reused rows at or past the exact prefix: approximate, the candidates for recompute. */
  tail: number[];
  /** Rows at or past the exact prefix with no source (computed on every path). */
  unmatched: number[];
  /** Scored path: how many rows of `tail` the selector recomputes. */
  take: number;
  /** The chosen path, and the estimates of it and of a full prefill (device rates). */
  path: PrefillPath;
  estimatedMs: number;
  estimatedFullMs: number;
  /** kvshare mode: scoring was possible but recomputing the rest was estimated cheaper. */
  scoringSkipped: boolean;
  /** The entries the plan indexes, and per entry the rows patched from it (empty for entries not used). */
  entries: KVEntry[];
  patchRows: PatchRow[][];
  /** Paths full / prefix / naive: the rows computed whole. Scored: the unmatched rows (the selected ones join them). */
  computed: number[];
}

/** What planning needs besides the prompt: the previous turn's live rows, the retrieved entries, the rates. */
export interface PlanInputs {
  live: LiveRows | null;
  found: Retrieved;
  options: Required<ReuseOptions>;
  /** The runner can run the scoring pass (kvshare's `scored` path). */
  canScore: boolean;
  costs: CostModel;
}

/** Leading rows of `ids` the live cache already holds exactly (never the last row: it is always computed). */
export function inPlaceRows(ids: number[], live: LiveRows | null): number {
  return live ? Math.min(commonPrefix(ids, live.tokens, live.exactRows), ids.length - 1) : 0;
}

/** Plan the prefill of `ids` (at least 2 tokens) under `options.mode` (not 'none'). */
export function planPrefill(ids: number[], x: PlanInputs): PrefillPlan {
  const N = ids.length;
  const o = x.options;
  const inPlace = inPlaceRows(ids, x.live);
  const { plan: p, used } = planReuse(ids, x.found, o);
  for (let i = 0; i < inPlace; i++) p.srcEntry[i] = -1;
  const P = takeExactPrefix(p, used, ids, inPlace, N - 1);
  p.srcEntry[N - 1] = -1; // the last prompt row is always computed
  const hasSource = (i: number) => i < inPlace || p.srcEntry[i] >= 0;
  const reused = range(0, N).filter(hasSource);
  const tail = reused.filter((i) => i >= P); // approximate: not the same history as the prompt's
  const unmatched = range(P, N).filter((i) => !hasSource(i));
  const take = Math.min(Math.ceil(o.recomputeRatio * reused.length), tail.length);
  const estimatedFullMs = x.costs.ms(work({ computed: N }));
  const plan: PrefillPlan = {
    length: N,
    inPlace,
    exactPrefix: P,
    reused,
    tail,
    unmatched,
    take,
    path: 'full',
    estimatedMs: estimatedFullMs,
    estimatedFullMs,
    scoringSkipped: false,
    entries: used,
    patchRows: used.map(() => []),
    computed: range(0, N),
  };
  if (reused.length === 0) return plan;

  // The paths this mode allows, cheapest chosen (the rows before `inPlace` cost nothing). A full
  // prefill is listed first so it wins ties: a reuse path is taken only when estimated strictly
  // faster, so a hit is never estimated slower than computing every row.
  const patchAll = reused.length - inPlace;
  const options: { path: PrefillPath; work: PathWork }[] = [{ path: 'full', work: work({ computed: N }) }];
  if (o.mode === 'naive' && tail.length > 0)
    options.push({ path: 'naive', work: work({ patched: patchAll, computed: unmatched.length }) });
  if (o.mode === 'kvshare' && x.canScore && tail.length > take) {
    options.push({
      path: 'scored',
      work: work({ patched: patchAll, scored: N - P, continued: unmatched.length + take }),
    });
  }
  if (o.mode !== 'naive' || tail.length === 0) {
    options.push({ path: 'prefix', work: work({ patched: P - inPlace, computed: N - P }) });
  }
  const chosen = x.costs.choose(options);
  plan.path = chosen.path;
  plan.estimatedMs = chosen.ms;
  plan.scoringSkipped = o.mode === 'kvshare' && tail.length > take && chosen.path !== 'scored';
  if (chosen.path === 'full') return plan;

  // Rows the path takes from entries: everything with a source past the in-place rows, or (prefix) the exact prefix.
  const takenEnd = chosen.path === 'prefix' ? P : N;
  for (const i of range(inPlace, takenEnd).filter(hasSource)) {
    const s = p.srcEntry[i];
    plan.patchRows[s].push({ src: p.srcPos[i], dst: i, old: used[s].positions[p.srcPos[i]] });
  }
  plan.computed =
    chosen.path === 'scored'
      ? unmatched
      : range(P, N).filter((i) => chosen.path === 'prefix' || !hasSource(i));
  return plan;
}

export const range = (from: number, to: number): number[] =>
  Array.from({ length: Math.max(0, to - from) }, (_, i) => from + i);

const work = (w: Partial<PathWork>): PathWork => ({ patched: 0, scored: 0, computed: 0, continued: 0, ...w });
