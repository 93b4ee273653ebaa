import { CacheEntryError, InvalidArgumentError } from '../errors.ts';
import { buildPatchPlan, type PatchPlan, prefixPlan } from '../kvshare/align.ts';
import type { KVCacheBackend } from '../kvshare/cache-backend.ts';
import { type KVEntry, validateEntry } from '../kvshare/entry.ts';
import {
  checkSelector,
  rankReused,
  type SelectorName,
  type SelectSignals,
  signalsFor,
} from '../kvshare/select.ts';
import type { PatchRow, ReuseKit } from '../llama/reuse.ts';
import type { ForwardResult, LlamaRunner, Row } from '../llama/runner.ts';
import { type FreshKV, freshKV, kvError } from './reuse-oracle.ts';

/** none: full prefill; prefix: exact-prefix reuse (lossless); naive: reuse every match; kvshare: DESIGN §3. */
export type ReuseMode = 'none' | 'prefix' | 'naive' | 'kvshare';
export const REUSE_MODES: readonly ReuseMode[] = ['none', 'prefix', 'naive', 'kvshare'];

export interface ReuseOptions {
  mode?: ReuseMode;
  /** kvshare: fraction of reused tokens recomputed by deviation score (default 0.15). */
  recomputeRatio?: number;
  /** kvshare: stale reused tokens recomputed per decode step (default 3). */
  trickle?: number;
  /**
   * Retrieval gate: least estimated share of the prompt's n-grams an entry must hold for its fragments
   * to be aligned (default 0.05). An entry below it can still give its exact common prefix (lossless).
   */
  minSimilarity?: number;
  /** Retrieval gate: shortest reused fragment in tokens (default 4; the exact common prefix is exempt). */
  minFragment?: number;
  /** Entries a plan may stitch from (default 2; prefix mode uses one). */
  maxSources?: number;
  /** kvshare: how reused rows are ranked for recompute (src/kvshare/select.ts; default 'dkv'). */
  select?: SelectorName;
  /** Seed of the `random` selector (default 0). */
  seed?: number;
}

export const DEFAULT_REUSE: Required<ReuseOptions> = {
  mode: 'kvshare',
  recomputeRatio: 0.15,
  trickle: 3,
  minSimilarity: 0.25,
  minFragment: 4,
  maxSources: 2,
  select: 'dkv',
  seed: 0,
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
  /** kvshare: the layer-0/1 scoring pass. */
  scoreMs: number;
  /** Per prompt position: 'reused' | 'recomputed' (selected by deviation) | 'new' (no source). */
  fates: TokenFate[];
}

export type TokenFate = 'reused' | 'recomputed' | 'new';

export interface PreparedPrompt {
  first: ForwardResult;
  /** Reused positions still stale, most deviating first: the decode loop trickles through them. */
  stale: number[];
  stats: ReuseStats;
  /** The live cache rows of the prompt equal a full computation. */
  exact: boolean;
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
  if (!(r.recomputeRatio >= 0 && r.recomputeRatio <= 1))
    throw new InvalidArgumentError('recomputeRatio must be in [0, 1]');
  if (!Number.isInteger(r.trickle) || r.trickle < 0)
    throw new InvalidArgumentError('trickle must be a whole number >= 0');
  if (!Number.isInteger(r.maxSources) || r.maxSources < 1)
    throw new InvalidArgumentError('maxSources must be >= 1');
  if (!Number.isInteger(r.minFragment) || r.minFragment < 1)
    throw new InvalidArgumentError('minFragment must be a whole number >= 1');
  checkSelector(r.select);
  if (!Number.isInteger(r.seed)) throw new InvalidArgumentError('seed must be a whole number');
  return r;
}

const rowsOf = (ids: number[], positions: number[]): Row[] =>
  positions.map((p) => ({ token: ids[p], position: p }));
const range = (n: number) => Array.from({ length: n }, (_, i) => i);

/** Retrieve entries for `ids`, validating each; corrupt ones are deleted from the cache and counted. */
async function retrieve(
  cache: KVCacheBackend,
  ids: number[],
  o: Required<ReuseOptions>,
  expect: Parameters<typeof validateEntry>[1],
) {
  const wanted = o.mode === 'prefix' ? 8 : o.maxSources;
  const matches = cache.query(ids, wanted);
  const entries: KVEntry[] = [];
  const prefixOnly: KVEntry[] = []; // below the gate: their exact prefix only
  let rejected = 0;
  for (const m of matches) {
    const e = await cache.get(m.id);
    if (!e) continue;
    const gated = o.mode === 'prefix' || m.similarity < o.minSimilarity;
    if (gated && !e.exact) continue;
    try {
      validateEntry(e, expect);
      (o.mode !== 'prefix' && gated ? prefixOnly : entries).push(e);
    } catch (err) {
      if (!(err instanceof CacheEntryError)) throw err;
      await cache.delete(m.id);
      rejected++;
    }
  }
  return { entries, prefixOnly, rejected };
}

function plan(
  ids: number[],
  found: { entries: KVEntry[]; prefixOnly: KVEntry[] },
  o: Required<ReuseOptions>,
): { plan: PatchPlan; used: KVEntry[] } {
  const { entries } = found;
  if (o.mode === 'prefix' || entries.length === 0) {
    let best: { plan: PatchPlan; e: KVEntry } | null = null;
    for (const e of o.mode === 'prefix' ? entries : found.prefixOnly) {
      const p = prefixPlan(ids, e.tokens);
      if (!best || p.reused > best.plan.reused) best = { plan: p, e };
    }
    return best ? { plan: best.plan, used: [best.e] } : { plan: prefixPlan(ids, []), used: [] };
  }
  const p = buildPatchPlan(
    ids,
    entries.map((e, i) => ({ entryIndex: i, tokens: e.tokens })),
    { minRun: o.minFragment },
  );
  return { plan: p, used: entries };
}

/*
 * Which reused rows kvshare recomputes (DESIGN §3 step 5), and why the default is `dkv`.
 *
 * The scoring pass runs layer 0 and layer 1's Q/K/V for every prompt row (so layers 0–1 become fresh for
 * all rows) and yields, per reused row, layer-1 |ΔV|_1, |ΔK|_1 (cached key re-rotated to its new
 * position) and the paper's alpha·|ΔV|_1. The selector (src/kvshare/select.ts) ranks the reused rows; the
 * top `recomputeRatio` are recomputed in every layer. Measured with stories260K, greedy, 32 new tokens,
 * r = 0.15, identical = whole answer equals full compute (`kvshare eval-reuse --modes naive,kvshare
 * --select all --pairs bench/pairs/<set>.jsonl`; same recomputed rows for every selector):
 *
 *   set        naive  paper   dv    dkv  random oracle
 *   stitched    3/20   5/20 12/20 11/20   4/20  13/20   b = two cached prompts joined
 *   edits      15/24  21/24 21/24 22/24  22/24  20/24   mid-prompt edits, swapped sentences
 *
 * One probe query makes the paper's alpha favour the end of the prompt, so on stitched prompts it does
 * no better than random; plain deviation finds the rows whose context changed (the second prompt's
 * start, cut from its own BOS). dv alone falls below random on edits; adding |ΔK| (each term scaled by
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
 * first token's forward result. Always computes the last prompt row (its logits pick the first token).
 */
export async function prefillWithReuse(
  runner: LlamaRunner,
  kit: ReuseKit,
  cache: KVCacheBackend | null,
  ids: number[],
  o: Required<ReuseOptions>,
  forwardOpts: { readLogits: boolean },
  expect: Parameters<typeof validateEntry>[1],
): Promise<PreparedPrompt> {
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
    fates: new Array<TokenFate>(N).fill('new'),
  };
  const full = async (): Promise<PreparedPrompt> => {
    const first = await runner.forward(rowsOf(ids, range(N)), { ...forwardOpts, logitRows: [N - 1] });
    return { first, stale: [], stats, exact: true };
  };
  if (o.mode === 'none' || !cache || N < 2) return full();

  const t0 = performance.now();
  const found = await retrieve(cache, ids, o, expect);
  stats.rejectedEntries = found.rejected;
  const { plan: p, used } = plan(ids, found, o);
  p.srcEntry[N - 1] = -1; // the last prompt row is always computed
  stats.retrievalMs = performance.now() - t0;
  const reused = range(N).filter((i) => p.srcEntry[i] >= 0);
  if (reused.length === 0) {
    cache.recordMiss();
    return full();
  }

  const take = o.mode === 'kvshare' ? Math.ceil(o.recomputeRatio * reused.length) : 0;
  // The scoring pass (which also refreshes layers 0–1 of every row) runs even when r = 0.
  const ranked = o.mode === 'kvshare' && kit.canScore && N >= 3 && take < reused.length;
  // The oracle (diagnostic) needs every row computed from scratch before the patch overwrites them.
  const fresh: FreshKV | null = ranked && o.select === 'oracle' ? await freshKV(runner, ids) : null;
  const t1 = performance.now();
  const rowsByEntry: PatchRow[][] = used.map(() => []);
  const usedIds = new Set<number>();
  for (const i of reused) {
    const e = used[p.srcEntry[i]];
    rowsByEntry[p.srcEntry[i]].push({ src: p.srcPos[i], dst: i, old: e.positions[p.srcPos[i]] });
    usedIds.add(p.srcEntry[i]);
  }
  await kit.patch(used, rowsByEntry);
  stats.patchMs = performance.now() - t1;
  stats.entryIds = [...usedIds].map((i) => used[i].id);
  for (const i of reused) stats.fates[i] = 'reused';

  let compute = range(N).filter((i) => p.srcEntry[i] < 0);
  let stale: number[] = [];
  if (o.mode === 'kvshare') {
    const t2 = performance.now();
    let order = reused;
    if (ranked) {
      const signals: SelectSignals = { paper: await kit.scoreRows(rowsOf(ids, range(N)), N - 2) };
      const need = signalsFor(o.select);
      if (need.includes('dv') || need.includes('dk')) Object.assign(signals, await kit.readDeviation(N));
      if (fresh) signals.oracle = await kvError(runner, fresh, N);
      order = rankReused(o.select, reused, signals, o.seed);
    }
    const chosen = order.slice(0, take);
    for (const i of chosen) stats.fates[i] = 'recomputed';
    stale = order.slice(take);
    compute = [...compute, ...chosen].sort((a, b) => a - b);
    stats.scoreMs = performance.now() - t2;
  }
  const first = await runner.forward(rowsOf(ids, compute), {
    ...forwardOpts,
    logitRows: [compute.length - 1],
  });
  stats.recomputedTokens = compute.length;
  stats.reusedTokens = N - compute.length;
  cache.recordHit(stats.reusedTokens);
  const exact = o.mode === 'prefix' || (o.mode === 'kvshare' && stale.length === 0);
  return { first, stale, stats, exact };
}
