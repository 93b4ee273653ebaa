import type { ReuseMode, ReuseOptions, TokenFate } from '../api/reuse-options.ts';
import { InvalidArgumentError } from '../errors.ts';
import type { EntryExpectation, KVEntry } from '../kvshare/entry.ts';
import type { EntryCache } from '../kvshare/entry-cache.ts';
import { checkSelector, type ScoreSignals, selector } from '../kvshare/select.ts';
import type { HotTier } from '../llama/hot-tier.ts';
import type { PatchSource, ReuseKit } from '../llama/reuse-kit.ts';
import type { ForwardResult, LlamaRunner, Row } from '../llama/runner.ts';
import type { CostModel, PrefillPath } from './cost-model.ts';
import type { EngineHooks } from './hooks.ts';
import { checkPatchShifts } from './patch-bounds.ts';
import { inPlaceRows, type LiveRows, planPrefill, range } from './prefill-plan.ts';
import { retrieve } from './retrieve.ts';

export const REUSE_MODES: readonly ReuseMode[] = ['none', 'prefix', 'naive', 'kvshare'];

export type { ReuseMode, ReuseOptions, TokenFate } from '../api/reuse-options.ts';

export const DEFAULT_REUSE: Required<ReuseOptions> = {
  mode: 'kvshare',
  recomputeRatio: 0.15,
  trickle: 3,
  minSimilarity: 0.25,
  minFragment: 4,
  maxSources: 8,
  select: 'dkv',
};

export interface ReuseStats {
  mode: ReuseMode;
  promptTokens: number;
  /** Prompt rows whose K/V came from the cache (and were not recomputed before the first token). */
  reusedTokens: number;
  /** Prompt rows computed before the first token (unmatched, last token, and selected by deviation). */
  recomputedTokens: number;
  /** Ids of the entries used. */
  entryIds: string[];
  /** Entries found corrupt or mismatched and dropped (the request fell back to computing those rows). */
  rejectedEntries: number;
  retrievalMs: number;
  patchMs: number;
  /** kvshare: the layer-0/1 scoring pass, the read-back of its signals and the ranking. */
  scoreMs: number;
  /** The rows computed before the first token (whole, or continued from the scoring pass), to its id. */
  computeMs: number;
  /** Per prompt position: 'reused' | 'recomputed' (had a source, computed anyway) | 'new' (no source). */
  fates: TokenFate[];
  /**
   * How the prompt was filled: `full` prefill, `prefix` (exact prefix taken, the rest computed),
   * `naive` (every match taken), `scored` (kvshare's deviation scoring). The cost model picks the
   * cheapest path the mode allows.
   */
  path: PrefillPath;
  /** Leading prompt rows already in the live cache from the previous request (neither patched nor computed). */
  inPlaceTokens: number;
  /** kvshare: scoring was skipped because recomputing the rest costs less than scoring it. */
  scoringSkipped: boolean;
  /** Estimated ms to the first token of the chosen path, and of a full prefill (device rates). */
  estimatedMs: number;
  estimatedFullMs: number;
}

export interface PreparedPrompt {
  first: ForwardResult;
  /** Reused positions still stale, most deviating first: the decode loop trickles through them. */
  stale: number[];
  stats: ReuseStats;
  /** The live cache rows of the prompt equal a full computation. */
  exact: boolean;
  /** Rows [0, exactRows) of the live cache equal a full computation. */
  exactRows: number;
  /** Entries patched from host memory (not GPU-resident): promoted to the hot tier after the answer. */
  fromHost: KVEntry[];
}

export type { LiveRows } from './prefill-plan.ts';

/** Everything a prefill with reuse works with. */
export interface ReuseContext {
  runner: LlamaRunner;
  kit: ReuseKit;
  /** The entry cache (null: nothing to reuse). */
  entries: EntryCache | null;
  hot: HotTier;
  costs: CostModel;
  live: LiveRows | null;
  expect: EntryExpectation;
  hooks: EngineHooks;
}

export function resolveReuse(
  o: ReuseOptions | undefined,
  defaults: Required<ReuseOptions>,
): Required<ReuseOptions> {
  const r = {
    ...defaults,
    ...Object.fromEntries(Object.entries(o ?? {}).filter(([, v]) => v !== undefined)),
  };
  if (!REUSE_MODES.includes(r.mode))
    throw new InvalidArgumentError(`reuse mode must be one of ${REUSE_MODES.join(', ')}`);
  if (o !== undefined && (typeof o !== 'object' || o === null || Array.isArray(o)))
    throw new InvalidArgumentError('reuse options must be an object');
  const fraction = (name: string, v: unknown) => {
    if (typeof v !== 'number' || !(v >= 0 && v <= 1))
      throw new InvalidArgumentError(
        `${name} must be a number in [0, 1] (got ${typeof v === 'string' ? JSON.stringify(v) : String(v)})`,
      );
  };
  fraction('recomputeRatio', r.recomputeRatio);
  fraction('minSimilarity', r.minSimilarity);
  if (!Number.isInteger(r.trickle) || r.trickle < 0)
    throw new InvalidArgumentError('trickle must be a whole number >= 0');
  if (!Number.isInteger(r.maxSources) || r.maxSources < 1)
    throw new InvalidArgumentError('maxSources must be >= 1');
  if (!Number.isInteger(r.minFragment) || r.minFragment < 1)
    throw new InvalidArgumentError('minFragment must be a whole number >= 1');
  checkSelector(r.select);
  return r;
}

const rowsOf = (ids: number[], positions: number[]): Row[] =>
  positions.map((p) => ({ token: ids[p], position: p }));

/*
 * Which reused rows kvshare recomputes (docs/DESIGN.md, Select), and why the default is `dkv`.
 *
 * The scoring pass runs layer 0 and layer 1's Q/K/V for every prompt row (so layers 0–1 become fresh for
 * all rows) and yields, per reused row, layer-1 |ΔV|_1, |ΔK|_1 (cached key re-rotated to its new
 * position) and the paper's alpha·|ΔV|_1. The selector (src/kvshare/select.ts) ranks the reused rows; the
 * top `recomputeRatio` are recomputed in every layer. Measured with stories260K, greedy, 32 new tokens,
 * r = 0.15, identical = whole answer equals full compute (`kvshare eval-reuse --modes naive,kvshare
 * --select all --pairs bench/pairs/<set>.jsonl`; same recomputed rows for every selector):
 *
 *   set        naive  paper   dv    dkv  random oracle   (random, oracle: src/eval/selectors.ts)
 *   stitched    3/20   5/20 12/20 11/20   4/20  13/20   b = two cached prompts joined
 *   edits      15/24  21/24 21/24 22/24  21/24  20/24   mid-prompt edits, swapped sentences
 *
 * One probe query makes the paper's alpha favour the end of the prompt, so on stitched prompts it does
 * no better than random; plain deviation finds the rows whose context changed (the second prompt's
 * start, cut from its own BOS). dv alone does no better than random on edits; adding |ΔK| (each term scaled by
 * its mean, so neither dominates) keeps dkv at or above naive and random on every set and closes 80% of
 * the naive→oracle gap on stitched prompts (the oracle ranks by true K/V error over all layers: a
 * diagnostic that needs the full computation). README "KV reuse" has the full table.
 *
 * Retrieval gate: an entry is aligned only if it holds >= 25% of the prompt's 3-grams, and fragments
 * shorter than 4 tokens are not reused (common phrases of unrelated stories changed answers); an entry
 * below the gate still gives its exact common prefix (a chat template's system prompt), which is lossless.
 */

/**
 * Fill the live KV cache for prompt `ids` at positions 0..N-1 under the reuse mode and return the
 * first token's forward result. The decisions are planPrefill's (prefill-plan.ts); this carries them
 * out: the patch, the scoring pass and selection, the computed rows, and the stats.
 */
export async function prefillWithReuse(
  x: ReuseContext,
  ids: number[],
  o: Required<ReuseOptions>,
  forwardOpts: { readLogits: boolean },
): Promise<PreparedPrompt> {
  const { runner, kit, entries, costs } = x;
  const N = ids.length;
  const stats: ReuseStats = {
    mode: o.mode,
    promptTokens: N,
    reusedTokens: 0,
    recomputedTokens: N,
    entryIds: [],
    rejectedEntries: 0,
    retrievalMs: 0,
    patchMs: 0,
    scoreMs: 0,
    computeMs: 0,
    fates: new Array<TokenFate>(N).fill('new'),
    path: 'full',
    inPlaceTokens: 0,
    scoringSkipped: false,
    estimatedMs: 0,
    estimatedFullMs: costs.ms({ patched: 0, scored: 0, computed: N, continued: 0 }),
  };
  stats.estimatedMs = stats.estimatedFullMs;
  const compute = async (rows: number[]) => {
    const t = performance.now();
    const first = await runner.forward(rowsOf(ids, rows), { ...forwardOpts, logitRows: [rows.length - 1] });
    stats.computeMs = performance.now() - t;
    costs.observeRows(rows.length, stats.computeMs);
    return first;
  };
  const computeAll = async (): Promise<PreparedPrompt> => ({
    first: await compute(range(0, N)),
    stale: [],
    stats,
    exact: true,
    exactRows: N,
    fromHost: [],
  });
  if (o.mode === 'none' || !entries || N < 2) return computeAll();

  const t0 = performance.now();
  const found =
    inPlaceRows(ids, x.live) < N - 1
      ? await retrieve(entries, ids, o, x.expect)
      : { entries: [], prefixOnly: [] };
  const plan = planPrefill(ids, { live: x.live, found, options: o, canScore: kit.canScore, costs });
  stats.retrievalMs = performance.now() - t0;
  stats.path = plan.path;
  stats.estimatedMs = plan.estimatedMs;
  stats.scoringSkipped = plan.scoringSkipped;
  if (plan.path === 'full') {
    for (const i of plan.reused) stats.fates[i] = 'recomputed';
    entries.recordMiss();
    return computeAll();
  }

  // A research selector (EngineHooks) may look at the live cache before the patch overwrites it.
  const research = plan.path === 'scored' ? x.hooks.selector : null;
  await research?.beforePatch?.(runner, ids);
  // Patch what the path takes from entries: hot-tier ones GPU→GPU, others only their reused rows.
  const t1 = performance.now();
  const sources: PatchSource[] = plan.entries.map((e, i) => {
    const hot = x.hot.get(e.id);
    return hot ? { hot, rows: plan.patchRows[i] } : { host: e, rows: plan.patchRows[i] };
  });
  checkPatchShifts(plan.patchRows, runner.contextLength);
  await kit.patch(sources);
  stats.patchMs = performance.now() - t1;
  const usedNow = plan.entries.filter((_, i) => plan.patchRows[i].length > 0);
  stats.entryIds = usedNow.map((e) => e.id);
  const fromHost = usedNow.filter((e) => !x.hot.has(e.id));
  stats.inPlaceTokens = plan.inPlace;

  let first: ForwardResult;
  let computed = plan.computed;
  let stale: number[] = [];
  if (plan.path === 'scored') {
    const t2 = performance.now();
    // The scoring pass refreshes layers 0–1 of rows P..N-1 and yields the selectors' signals.
    const P = plan.exactPrefix;
    const named = selector(o.select);
    const want = (research ?? named).signals;
    const signals: ScoreSignals = await kit.scoreRows(rowsOf(ids, range(P, N)), N - 2 - P, want);
    const order = research ? await research.rank(plan.tail, signals, runner) : named.rank(plan.tail, signals);
    stale = order.slice(plan.take);
    computed = [...plan.unmatched, ...order.slice(0, plan.take)].sort((a, b) => a - b);
    const t3 = performance.now();
    stats.scoreMs = t3 - t2;
    first = await kit.continueRows(rowsOf(ids, computed), {
      ...forwardOpts,
      logitRows: [computed.length - 1],
    });
    stats.computeMs = performance.now() - t3;
  } else {
    first = await compute(computed);
  }
  const reusedSet = new Set(plan.reused);
  for (const i of plan.reused) stats.fates[i] = 'reused';
  for (const i of computed) if (reusedSet.has(i)) stats.fates[i] = 'recomputed';
  stats.recomputedTokens = computed.length;
  stats.reusedTokens = N - computed.length;
  entries.recordHit(stats.reusedTokens);
  const inexact = plan.path === 'naive' ? plan.tail : stale;
  const exactRows = inexact.length > 0 ? Math.min(...inexact) : N;
  return { first, stale, stats, exact: exactRows === N, exactRows, fromHost };
}
