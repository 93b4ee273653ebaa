/**
 * Alignment of a new prompt against cached entries (docs/DESIGN.md, Align): the patch plan says, for each new
 * position, which cached row (entry, old position) holds the same token, or that the row must be computed.
 *
 * Plan building:
 *  1. Every source is diffed against the whole new prompt (Myers, see diff.ts); the source that keeps the
 *     most tokens (after dropping short runs) is the primary and its kept runs are planned first. With one
 *     source and minRun = 1 the plan reuses exactly an LCS.
 *  2. Stitching: each maximal run of still-unplanned new positions is filled greedily from every source
 *     (primary first, so reordered clauses of the same entry are recovered; then the others by step-1
 *     score), taking at each new position the longest contiguous match found through an n-gram index of the
 *     source. Matches found here need not be monotone in the source.
 *  A source whose diff exceeds `maxDiffSteps` (very dissimilar) skips step 1 and is only stitched from.
 *  Runs shorter than `minRun` are dropped in both steps, except the leading exact prefix (new 0.. = old 0..),
 *  whose rows are bit-identical to a fresh computation whatever its length (e.g. a lone BOS).
 *
 * Cost: step 1 is one O((N + M)·D) diff per source, capped by `maxDiffSteps`; step 2 is O(N · maxCandidates)
 * per source plus an O(M) index build, independent of how dissimilar the source is.
 */
import { InvalidArgumentError } from '../errors.ts';
import { lcsRunsBounded, type MatchRun } from './diff.ts';

export {
  diffSequences,
  diffTokens,
  type EditOp,
  lcsLength,
  lcsRuns,
  lcsRunsBounded,
  type MatchRun,
} from './diff.ts';

export interface PatchPlan {
  length: number; // new prompt length N
  srcEntry: Int32Array; // [N] the source's entryIndex, or -1 = must compute
  srcPos: Int32Array; // [N] position of the same token within that source, or -1
  reused: number; // count of positions with a source
}

export interface AlignSource {
  /** Written to `srcEntry`; callers usually pass the source's index in their own entry list. */
  entryIndex: number;
  tokens: ArrayLike<number>; // [M] the cached entry's prompt tokens
}

export interface PatchPlanOptions {
  /** Kept runs shorter than this are not reused (default 2; the leading exact prefix is exempt). */
  minRun?: number;
  /** Fill unplanned positions from further sources / non-monotone matches (default true). */
  stitch?: boolean;
  /** At most this many candidate source positions are extended per new position when stitching (256). */
  maxCandidates?: number;
  /**
   * Step budget of each source's monotone diff (default 2 M, about 15 ms). A source too different to align
   * within it gets no monotone runs and contributes through stitching only.
   */
  maxDiffSteps?: number;
}

/** A contiguous piece of a plan: new [newStart, newStart + length) ← entry rows [srcStart, srcStart + length). */
export interface PlanRun {
  entryIndex: number;
  newStart: number;
  srcStart: number;
  length: number;
}

/** Plan that computes every position. */
function emptyPlan(length: number): PatchPlan {
  return {
    length,
    srcEntry: new Int32Array(length).fill(-1),
    srcPos: new Int32Array(length).fill(-1),
    reused: 0,
  };
}

/** Exact-prefix reuse only (the lossless `prefix` mode): new[i] ← cached[i] while the tokens agree. */
export function prefixPlan(
  newTokens: ArrayLike<number>,
  cachedTokens: ArrayLike<number>,
  entryIndex = 0,
): PatchPlan {
  const plan = emptyPlan(newTokens.length);
  const n = Math.min(newTokens.length, cachedTokens.length);
  let i = 0;
  while (i < n && newTokens[i] === cachedTokens[i]) {
    plan.srcEntry[i] = entryIndex;
    plan.srcPos[i] = i;
    i++;
  }
  plan.reused = i;
  return plan;
}

/** Plan the reuse of cached rows for `newTokens` from one or more cached sources. */
export function buildPatchPlan(
  newTokens: ArrayLike<number>,
  sources: readonly AlignSource[],
  opts: PatchPlanOptions = {},
): PatchPlan {
  const minRun = opts.minRun ?? 2;
  const maxCandidates = opts.maxCandidates ?? 256;
  const maxDiffSteps = opts.maxDiffSteps ?? 2_000_000;
  if (!Number.isInteger(minRun) || minRun < 1)
    throw new InvalidArgumentError(`minRun must be an integer >= 1, got ${minRun}`);
  if (!Number.isInteger(maxCandidates) || maxCandidates < 1) {
    throw new InvalidArgumentError(`maxCandidates must be an integer >= 1, got ${maxCandidates}`);
  }
  const seen = new Set<number>();
  for (const s of sources) {
    if (!Number.isInteger(s.entryIndex) || s.entryIndex < 0) {
      throw new InvalidArgumentError(`source entryIndex must be a non-negative integer, got ${s.entryIndex}`);
    }
    if (seen.has(s.entryIndex)) throw new InvalidArgumentError(`duplicate source entryIndex ${s.entryIndex}`);
    seen.add(s.entryIndex);
  }
  const plan = emptyPlan(newTokens.length);
  if (sources.length === 0 || newTokens.length === 0) return plan;

  // 1. Monotone alignment with every source; the best one is planned.
  const aligned = sources.map((src, order) => {
    const runs = (lcsRunsBounded(src.tokens, newTokens, maxDiffSteps) ?? []).filter((r) =>
      keepRun(r, minRun),
    );
    let kept = 0;
    for (const r of runs) kept += r.length;
    return { src, order, runs, kept };
  });
  const ranked = [...aligned].sort((x, y) => y.kept - x.kept || x.order - y.order);
  const primary = ranked[0];
  for (const r of primary.runs) assign(plan, primary.src.entryIndex, r.newStart, r.oldStart, r.length);

  // 2. Stitch the remaining gaps from every source, primary first.
  if (opts.stitch ?? true) {
    for (const { src } of ranked) {
      if (plan.reused === plan.length) break;
      fillGaps(plan, newTokens, src, minRun, maxCandidates);
    }
  }
  return plan;
}

/** The plan as maximal runs of consecutive positions copied from consecutive rows of one entry. */
export function planRuns(plan: PatchPlan): PlanRun[] {
  const runs: PlanRun[] = [];
  let last: PlanRun | undefined;
  for (let i = 0; i < plan.length; i++) {
    const e = plan.srcEntry[i];
    if (e < 0) {
      last = undefined;
      continue;
    }
    const p = plan.srcPos[i];
    if (
      last &&
      last.entryIndex === e &&
      last.srcStart + last.length === p &&
      last.newStart + last.length === i
    ) {
      last.length++;
    } else {
      last = { entryIndex: e, newStart: i, srcStart: p, length: 1 };
      runs.push(last);
    }
  }
  return runs;
}

function keepRun(r: MatchRun, minRun: number): boolean {
  return r.length >= minRun || (r.oldStart === 0 && r.newStart === 0);
}

function assign(
  plan: PatchPlan,
  entryIndex: number,
  newStart: number,
  srcStart: number,
  length: number,
): void {
  for (let t = 0; t < length; t++) {
    plan.srcEntry[newStart + t] = entryIndex;
    plan.srcPos[newStart + t] = srcStart + t;
  }
  plan.reused += length;
}

/**
 * Greedy left-to-right fill of every unplanned gap from one source: at each new position take the longest
 * match (ties: the smallest position shift, then the earliest source row) that stays inside the gap.
 * Candidates come from an index keyed by the source's `minRun`-grams (capped at 2-grams); a key collision
 * only costs a wasted comparison, since every match is checked token by token.
 */
function fillGaps(
  plan: PatchPlan,
  newTokens: ArrayLike<number>,
  src: AlignSource,
  minRun: number,
  maxCandidates: number,
): void {
  const toks = src.tokens;
  const keyLen = Math.min(minRun, 2);
  const index = new Map<number, number[]>();
  for (let p = 0; p + keyLen <= toks.length; p++) {
    const key = gramKey(toks, p, keyLen);
    const list = index.get(key);
    if (list) list.push(p);
    else index.set(key, [p]);
  }
  const n = plan.length;
  let i = 0;
  while (i < n) {
    if (plan.srcEntry[i] >= 0) {
      i++;
      continue;
    }
    let gapEnd = i;
    while (gapEnd < n && plan.srcEntry[gapEnd] < 0) gapEnd++;
    if (i === 0) {
      // The leading exact prefix is reused whatever its length (same rows as a fresh computation).
      let len = 0;
      while (len < gapEnd && len < toks.length && toks[len] === newTokens[len]) len++;
      if (len > 0 && len < minRun) {
        assign(plan, src.entryIndex, 0, 0, len);
        i = len;
      }
    }
    while (i + keyLen <= gapEnd) {
      const cands = index.get(gramKey(newTokens, i, keyLen));
      let bestLen = 0;
      let bestPos = -1;
      if (cands) {
        const limit = Math.min(cands.length, maxCandidates);
        for (let c = 0; c < limit; c++) {
          const p = cands[c];
          let len = 0;
          while (i + len < gapEnd && p + len < toks.length && toks[p + len] === newTokens[i + len]) len++;
          if (len > bestLen || (len === bestLen && len > 0 && Math.abs(p - i) < Math.abs(bestPos - i))) {
            bestLen = len;
            bestPos = p;
          }
        }
      }
      if (bestLen >= minRun) {
        assign(plan, src.entryIndex, i, bestPos, bestLen);
        i += bestLen;
      } else {
        i++;
      }
    }
    i = gapEnd;
  }
}

/** Numeric key of tokens[p, p + len), len <= 2; exact for ids below 2^21, else a harmless collision. */
function gramKey(tokens: ArrayLike<number>, p: number, len: number): number {
  return len === 1 ? tokens[p] : tokens[p] * 4294967296 + (tokens[p + 1] >>> 0);
}
