/** Write-back (docs/DESIGN.md, Write back): the live KV cache rows of a prompt become a cache entry. */

import type { EntryUserMeta } from '../api/cache.ts';
import { entryBytes, type KVEntry, type KVEntryMeta, makeEntry } from '../kvshare/entry.ts';
import type { EntryCache } from '../kvshare/entry-cache.ts';
import type { HotTier } from '../llama/hot-tier.ts';
import { readCacheRows } from '../llama/reuse-kit.ts';
import type { LlamaRunner } from '../llama/runner.ts';
import type { ModelInfo } from './types.ts';

/**
 * Read rows 0..ids.length-1 of the live cache back into a new entry, replacing an entry with the
 * same tokens, or given an `id` the entry with that id (an exact entry is never replaced by an approximate one: that one is returned instead).
 * The new entry also stays on the GPU (a copy of the live rows) in the hot tier `hot`. Returns
 * null, storing nothing and replacing nothing, when the entry is larger than the cache's whole budget.
 */
export async function storePrompt(
  entries: EntryCache,
  hot: HotTier,
  runner: LlamaRunner,
  info: ModelInfo,
  ids: number[],
  exact: boolean,
  id?: string,
  meta?: EntryUserMeta,
): Promise<KVEntryMeta | null> {
  const same: string[] = [];
  let kept = meta; // a write-back replacing an entry of the same tokens keeps that entry's meta
  // An entry stored under an id of the caller's keeps its id even if another holds the same tokens.
  for (const match of id !== undefined ? [] : entries.query(ids, 4, { threshold: 0.99 })) {
    const old = await entries.get(match.id);
    if (old && old.tokens.length === ids.length && old.tokens.every((t, i) => t === ids[i])) {
      if (old.exact && !exact) return entries.list().find((e) => e.id === old.id)!;
      same.push(old.id);
      kept ??= old.meta;
    }
  }
  const { k, v } = await readCacheRows(runner, ids.length);
  const c = info.config;
  const entry = makeEntry({
    id: id ?? crypto.randomUUID(),
    fingerprint: info.fingerprint,
    tokens: ids,
    numLayers: c.numLayers,
    kvDim: c.numKvHeads * c.headDim,
    k,
    v,
    q8Group: runner.cache.group,
    now: Date.now(),
    exact,
    meta: kept,
  });
  if (entryBytes(entry) > entries.stats().budgetBytes) return null;
  // The same tokens stored before, or the entry under the id asked for, are replaced.
  if (id !== undefined && entries.list().some((e) => e.id === id)) same.push(id);
  for (const old of same) {
    await entries.delete(old);
    hot.delete(old);
  }
  await entries.store(entry);
  hot.keepFromLive(entry.id, ids.length);
  hot.retain(new Set(entries.list().map((e) => e.id)));
  return entries.list().find((e) => e.id === entry.id)!;
}

/**
 * Promote entries a request patched from host memory (read from IndexedDB, imported from a pack, or
 * put) to the GPU hot tier, least recently used hot entries evicted to make room; entries the
 * entry cache no longer holds (replaced by the write-back, evicted) are skipped.
 */
export function promoteUsed(entries: EntryCache, hot: HotTier, used: KVEntry[]): void {
  if (used.length === 0) return;
  const held = new Set(entries.list().map((e) => e.id));
  for (const e of used) {
    if (held.has(e.id) && !hot.has(e.id)) hot.promote(e.id, e, e.tokens.length);
  }
}
