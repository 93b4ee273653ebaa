/** Retrieval and alignment of a prompt against the cache: which entry row fills which position. */

import type { ReuseOptions } from '../api/reuse-options.ts';
import { buildPatchPlan, type PatchPlan, prefixPlan } from '../kvshare/align.ts';
import type { EntryExpectation, KVEntry } from '../kvshare/entry.ts';
import type { EntryCache } from '../kvshare/entry-cache.ts';
import { fitsContext } from './patch-bounds.ts';

/**
 * Retrieve entries for `ids`. Entries are validated once, where they enter the cache (MemoryTier.store,
 * IndexedDB reads, pack import); here only the loaded runner's context is checked. An entry that
 * misleads anyway (non-finite output) is dropped by the output guard (output-guard.ts).
 */
export async function retrieve(
  cache: EntryCache,
  ids: number[],
  o: Required<ReuseOptions>,
  expect: EntryExpectation,
): Promise<Retrieved> {
  const wanted = o.mode === 'prefix' ? 8 : o.maxSources;
  const matches = cache.query(ids, wanted);
  const entries: KVEntry[] = [];
  const prefixOnly: KVEntry[] = []; // below the retrieval gate: their exact prefix only
  for (const m of matches) {
    const e = await cache.get(m.id);
    if (!e || !fitsContext(e, expect)) continue;
    const gated = o.mode === 'prefix' || m.similarity < o.minSimilarity;
    if (gated && !e.exact) continue;
    (o.mode !== 'prefix' && gated ? prefixOnly : entries).push(e);
  }
  return { entries, prefixOnly };
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
