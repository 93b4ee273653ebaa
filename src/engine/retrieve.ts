/** Retrieval and alignment of a prompt against the cache: which entry row fills which position. */

import type { ReuseOptions } from '../api/reuse-options.ts';
import { buildPatchPlan, type PatchPlan, prefixPlan } from '../kvshare/align.ts';
import type { EntryExpectation, KVEntry } from '../kvshare/entry.ts';
import type { EntryCache } from '../kvshare/entry-cache.ts';
import { fitsContext } from './patch-bounds.ts';

/** Least share of an entry's n-grams a prompt must hold (counted exactly) to align it as a quoted chunk. */
export const QUOTED_GATE = 0.5;
/** Prompts longer than two windows are also searched window by window (chunks quoted in a long prompt). */
const WINDOW_TOKENS = 32;

/**
 * Retrieve entries for `ids`: the entries holding most of the prompt (MinHash containment over the whole
 * prompt), then, for a long prompt, entries that hold most of a window of it (a document chunk quoted
 * among others holds a small share of the whole prompt, so only a window finds it). An entry is aligned
 * if it holds at least `minSimilarity` of the prompt's 3-grams (estimated) or the prompt holds at least
 * QUOTED_GATE of the entry's (counted); else it may only give its exact prefix. At most `maxSources`.
 * Entries are validated once, where they enter the cache (MemoryTier.store, IndexedDB reads, pack
 * import); here only the loaded runner's context is checked. An entry that misleads anyway (non-finite
 * output) is dropped by the output guard (output-guard.ts).
 */
export async function retrieve(
  cache: EntryCache,
  ids: number[],
  o: Required<ReuseOptions>,
  expect: EntryExpectation,
): Promise<Retrieved> {
  const wanted = o.mode === 'prefix' ? 8 : o.maxSources;
  const similarity = new Map<string, number>();
  for (const m of cache.query(ids, wanted)) similarity.set(m.id, m.similarity);
  if (o.mode !== 'prefix' && ids.length > 2 * WINDOW_TOKENS) {
    // Each window's best two entries, until 4 × maxSources candidates are known.
    for (
      let s = 0;
      s + WINDOW_TOKENS / 2 < ids.length && similarity.size < 4 * wanted;
      s += WINDOW_TOKENS / 2
    ) {
      for (const m of cache.query(ids.slice(s, s + WINDOW_TOKENS), 2, { threshold: QUOTED_GATE }))
        if (!similarity.has(m.id)) similarity.set(m.id, 0);
    }
  }
  const grams = similarity.size > 0 ? trigrams(ids) : new Set<string>();
  const entries: KVEntry[] = [];
  const prefixOnly: KVEntry[] = []; // below the retrieval gate: their exact prefix only
  for (const [id, sim] of similarity) {
    if (entries.length >= wanted) break;
    // An entry of a mounted pack is fetched only past the gate (it is never exact: no prefix use either).
    const lazy = o.mode === 'prefix' ? undefined : cache.lazyTokens?.(id);
    if (lazy && sim < o.minSimilarity && quotedShare(lazy, grams) < QUOTED_GATE) continue;
    if (o.mode === 'prefix' && cache.lazyTokens?.(id)) continue;
    const e = await cache.get(id);
    if (!e || !fitsContext(e, expect)) continue;
    const gated =
      o.mode === 'prefix' || (sim < o.minSimilarity && quotedShare(e.tokens, grams) < QUOTED_GATE);
    if (gated && !e.exact) continue;
    (o.mode !== 'prefix' && gated ? prefixOnly : entries).push(e);
  }
  return { entries, prefixOnly };
}

const trigramKey = (t: ArrayLike<number>, i: number) => `${t[i]},${t[i + 1]},${t[i + 2]}`;

function trigrams(ids: ArrayLike<number>): Set<string> {
  const out = new Set<string>();
  for (let i = 0; i + 3 <= ids.length; i++) out.add(trigramKey(ids, i));
  return out;
}

/** Share of `tokens`' 3-grams found in `grams` (0 for fewer than 3 tokens). */
export function quotedShare(tokens: ArrayLike<number>, grams: Set<string>): number {
  const n = tokens.length - 2;
  if (n <= 0) return 0;
  let hit = 0;
  for (let i = 0; i < n; i++) if (grams.has(trigramKey(tokens, i))) hit++;
  return hit / n;
}

/** Entries aligned in full, and entries below the gate that may only give their exact prefix. */
export interface Retrieved {
  entries: KVEntry[];
  prefixOnly: KVEntry[];
}

/** The patch plan of `ids` over `entries` under `mode`, and the entries it indexes. */
export function planReuse(
  ids: number[],
  found: Retrieved,
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

/** Length of the common prefix of `a` and `b[0, limit)`. */
export function commonPrefix(a: ArrayLike<number>, b: ArrayLike<number>, limit = b.length): number {
  const n = Math.min(a.length, b.length, limit);
  let i = 0;
  while (i < n && a[i] === b[i]) i++;
  return i;
}

/**
 * Extend the plan's exact prefix: rows [from, P) taken as is from the exact entry that shares the
 * longest token prefix with `ids` (same tokens at the same positions: K/V bit-identical to a full
 * computation). Rewrites those rows of `plan` to that entry; returns P (at most `limit`).
 */
export function takeExactPrefix(
  plan: PatchPlan,
  used: KVEntry[],
  ids: number[],
  from: number,
  limit: number,
) {
  let P = from;
  let src = -1;
  used.forEach((e, i) => {
    if (!e.exact) return;
    const l = Math.min(commonPrefix(ids, e.tokens), limit);
    for (let j = 0; j < l; j++) if (e.positions[j] !== j) return;
    if (l > P) {
      P = l;
      src = i;
    }
  });
  for (let i = from; i < P; i++) {
    plan.srcEntry[i] = src;
    plan.srcPos[i] = i;
  }
  return P;
}
