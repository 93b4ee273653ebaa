/**
 * The write side of the persistent KV cache: payload-then-index writes, deletes, least-recently-used
 * eviction against the persisted budget, and the quota policy (evict and retry once, then memory only).
 * Its caller (PersistentEntryCache) runs these one at a time.
 */

import type { UseStore } from 'idb-keyval';
import { CacheEntryError } from '../errors.ts';
import type { KVEntry } from '../kvshare/entry.ts';
import { encodeEntry, storedChecksum } from './codec.ts';
import type { ChannelNotice } from './cross-tab.ts';
import { deleteKeys, listKeys, putIndexIfPayload, writeValue } from './idb-ops.ts';
import type { KnownEntries } from './known-entries.ts';
import {
  errorMessage,
  type IndexRecord,
  indexRecordFor,
  isQuotaError,
  quotaAllowance,
  type StorageEstimateLike,
  type StoreKeys,
  type StoreWarning,
} from './records.ts';

export interface WriterHost {
  store: UseStore;
  keys: StoreKeys;
  known: KnownEntries;
  budgetBytes: number;
  quotaShare?: number;
  estimate?: () => Promise<StorageEstimateLike>;
  /** Drop `id` from the instance (index, hot tier); called before its keys are deleted. */
  forget(id: string): void;
  /** The hot tier still holds `id`. */
  inMemory(id: string): boolean;
  post(type: ChannelNotice['type'], id: string): void;
  warn(w: StoreWarning): void;
}

export class EntryWriter {
  private quotaFull = false;
  private allowance: number;

  constructor(private readonly host: WriterHost) {
    this.allowance = host.budgetBytes;
  }

  /** True once the quota stayed exceeded after evicting: nothing more is written. */
  get full(): boolean {
    return this.quotaFull;
  }

  /** Bytes the persisted payloads may take: min(budgetBytes, our bytes + a share of the free quota). */
  get budget(): number {
    return this.allowance;
  }

  /**
   * Write `entry` (known as pending with sequence `seq`) unless it was deleted or replaced meanwhile.
   * Storage failures end with the entry memory-only and a warning; this never rejects for them.
   */
  async persist(entry: KVEntry, seq: number): Promise<void> {
    const { known } = this.host;
    const id = entry.id;
    const current = () => known.get(id)?.seq === seq;
    if (!current()) return;
    const payload = encodeEntry(entry);
    const rec = indexRecordFor(entry, payload.byteLength, storedChecksum(payload));
    let failure: StoreWarning | undefined;
    if (payload.byteLength > this.allowance) {
      const message = `KV cache entry ${id} (${payload.byteLength} bytes) exceeds the persisted budget of ${this.allowance} bytes; kept in memory only`;
      failure = { kind: 'budget', id, message };
    } else {
      await this.evictToFit(payload.byteLength, id);
      failure = await this.writeWithRetry(rec, payload);
    }
    if (!failure) {
      if (current()) known.set(rec, 'persisted');
      return;
    }
    await this.remove(id, true); // a payload may have been written; an older copy is stale either way
    if (current()) {
      if (this.host.inMemory(id)) known.markMemoryOnly(id);
      else known.drop(id);
    }
    this.host.warn(failure);
  }

  /** Delete both keys of `id` in one transaction (index record and payload) and tell other tabs. */
  async remove(id: string, quiet = false): Promise<void> {
    const { store, keys } = this.host;
    try {
      await deleteKeys(store, [keys.index(id), keys.entry(id)]);
      this.host.post('delete', id);
    } catch (e) {
      if (quiet) return;
      const message = `deleting KV cache entry ${id} failed: ${errorMessage(e)}`;
      this.host.warn({ kind: 'io', id, message, cause: e });
    }
  }

  /** Delete every key of this model and format version. */
  async removeAll(): Promise<void> {
    const { store, keys } = this.host;
    try {
      const ours = (await listKeys(store)).filter(
        (k): k is string =>
          typeof k === 'string' && (k.startsWith(keys.indexPrefix) || k.startsWith(keys.entryPrefix)),
      );
      await deleteKeys(store, ours);
      this.host.post('clear', '');
    } catch (e) {
      const message = `clearing the KV cache in IndexedDB failed: ${errorMessage(e)}`;
      this.host.warn({ kind: 'io', message, cause: e });
    }
  }

  /** Evict least recently used persisted entries until `incoming` more bytes fit the allowance. */
  async evictToFit(incoming: number, keep?: string): Promise<void> {
    while (this.host.known.persistedBytes + incoming > this.allowance && (await this.evictOne(keep))) {}
  }

  /** Re-read the storage estimate and recompute the allowance. */
  async refreshAllowance(): Promise<void> {
    let est: StorageEstimateLike | undefined;
    try {
      est = await this.host.estimate?.();
    } catch {
      est = undefined;
    }
    const share = quotaAllowance(est, this.host.known.persistedBytes, this.host.quotaShare);
    this.allowance = Math.min(this.host.budgetBytes, share);
  }

  /** Write payload then index; on a quota error evict LRU entries and retry once, then go memory-only. */
  private async writeWithRetry(rec: IndexRecord, payload: Uint8Array): Promise<StoreWarning | undefined> {
    for (let attempt = 0; ; attempt++) {
      try {
        await this.writePair(rec, payload);
        return undefined;
      } catch (e) {
        if (isQuotaError(e) && attempt === 0) {
          await this.refreshAllowance();
          await this.evictBytes(payload.byteLength, rec.id);
          continue;
        }
        if (!isQuotaError(e)) {
          const message = `writing KV cache entry ${rec.id} failed (${errorMessage(e)}); kept in memory only`;
          return { kind: 'io', id: rec.id, message, cause: e };
        }
        this.quotaFull = true;
        const message = `storage quota exceeded writing KV cache entry ${rec.id}; caching in memory only from now on`;
        return { kind: 'quota', id: rec.id, message, cause: e };
      }
    }
  }

  private async writePair(rec: IndexRecord, payload: Uint8Array): Promise<void> {
    const { store, keys } = this.host;
    const entryKey = keys.entry(rec.id);
    for (let i = 0; i < 2; i++) {
      await writeValue(store, entryKey, payload);
      if (await putIndexIfPayload(store, entryKey, keys.index(rec.id), rec)) {
        this.host.post('put', rec.id);
        return;
      }
      // another tab's open() removed the payload as an orphan between the two writes: write it again
    }
    throw new CacheEntryError('the payload was deleted before its index record could be written');
  }

  /** Evict least recently used persisted entries totalling at least `bytes`, then fit the allowance. */
  private async evictBytes(bytes: number, keep?: string): Promise<void> {
    const target = this.host.known.persistedBytes - bytes;
    while (this.host.known.persistedBytes > target && (await this.evictOne(keep))) {}
    await this.evictToFit(bytes, keep);
  }

  private async evictOne(keep?: string): Promise<boolean> {
    const victim = this.host.known.lruPersisted(keep);
    if (victim === undefined) return false;
    this.host.forget(victim);
    await this.remove(victim);
    return true;
  }
}
