/**
 * PersistentEntryCache: the KV cache backend that keeps entries in IndexedDB (through idb-keyval) behind the
 * in-memory MemoryTier, which serves as the hot tier. open() reads only the small index records to
 * rebuild the sketch index; payloads are fetched on get() and then kept in memory.
 *
 * Failure policy: storage trouble never fails a request. No IndexedDB (private mode, blocked open) or a
 * quota that stays exceeded after evicting → memory-only mode with a warning; a corrupt or half-written
 * entry → deleted, counted, warned about, and reported as absent. Several tabs may share one database:
 * every entry has its own two keys, writes are announced on a BroadcastChannel, and each tab updates its
 * index from the announced records.
 */
import { createStore, type UseStore } from 'idb-keyval';
import type { MemoryCacheStats } from '../api/cache.ts';
import { CacheEntryError, InvalidArgumentError } from '../errors.ts';
import { conformEntry, type EntryExpectation, type KVEntry, type KVEntryMeta } from '../kvshare/entry.ts';
import type { EntryCache } from '../kvshare/entry-cache.ts';
import type { MemoryTier } from '../kvshare/memory-tier.ts';
import type { SketchMatch } from '../kvshare/sketch.ts';
import { decodeEntry, storedChecksum } from './codec.ts';
import { type ChannelNotice, TabChannel } from './cross-tab.ts';
import { readValue, scanIndex, TouchWriter } from './idb-ops.ts';
import { EntryWriter } from './idb-writer.ts';
import { type Known, KnownEntries } from './known-entries.ts';
import {
  defaultEstimate,
  errorMessage,
  type IndexRecord,
  indexRecordFor,
  parseIndexRecord,
  type RecordLimits,
  type StorageEstimateLike,
  type StoreKeys,
  type StoreWarning,
  storeKeys,
  withTimeout,
} from './records.ts';

export interface PersistentEntryCacheOptions extends EntryExpectation {
  budgetBytes: number; // most payload bytes kept in IndexedDB (also capped by a share of the free quota)
  memory: MemoryTier; // the hot tier; must be built for the same model (fingerprint, numLayers, kvDim)
  dbName?: string; // default 'kvshare'
  storeName?: string; // default 'kv'
  /** Storage estimate (default navigator.storage.estimate when present; null: none). */
  estimate?: (() => Promise<StorageEstimateLike>) | null;
  quotaShare?: number; // share of the free quota the cache may fill (default 0.5)
  clock?: () => number; // default Date.now
  channelName?: string; // BroadcastChannel name, default `kvshare:<dbName>`; '' disables cross-tab notices
  onWarning?: (w: StoreWarning) => void;
  store?: UseStore; // an idb-keyval store to use instead of createStore(dbName, storeName)
  openTimeoutMs?: number; // give up on a blocked IndexedDB open after this long (default 5000)
  touchDelayMs?: number; // lastUsed updates are written in batches this often (default 2000)
  bands?: number; // LSH bands of the sketch index; must match the memory cache's (default numHashes / 4)
  rows?: number; // LSH rows per band (default 4)
}

export interface PersistentCacheStats extends MemoryCacheStats {
  persistedEntries: number;
  persistedBytes: number; // payload bytes in IndexedDB known to this instance
  corruptDeleted: number; // entries deleted because they failed their checks
  memoryOnly: boolean; // true when nothing new is being written to IndexedDB
}

export class PersistentEntryCache implements EntryCache {
  readonly memory: MemoryTier;
  readonly expect: EntryExpectation;
  readonly dbName: string;
  private readonly keys: StoreKeys;
  private readonly clock: () => number;
  private readonly known: KnownEntries;
  private readonly loading = new Map<string, Promise<KVEntry | undefined>>();
  private idb: UseStore | undefined;
  private writer: EntryWriter | undefined;
  private touches: TouchWriter | undefined;
  private channel: TabChannel | undefined;
  private chain: Promise<void> = Promise.resolve();
  private unavailableMode = false;
  private corruptDeleted = 0;

  private constructor(private readonly opts: PersistentEntryCacheOptions) {
    const m = opts.memory;
    const e = m.expect;
    if (e.fingerprint !== opts.fingerprint || e.numLayers !== opts.numLayers || e.kvDim !== opts.kvDim) {
      throw new InvalidArgumentError(
        'the memory cache was built for another model than the persistent cache',
      );
    }
    if (!Number.isFinite(opts.budgetBytes) || opts.budgetBytes < 0) {
      throw new InvalidArgumentError(`budgetBytes must be a finite number >= 0, got ${opts.budgetBytes}`);
    }
    this.memory = m;
    // Integrity checks of stored payloads; the context fit is the hot tier's check (see admit).
    this.expect = {
      fingerprint: opts.fingerprint,
      numLayers: opts.numLayers,
      kvDim: opts.kvDim,
      numHashes: m.numHashes,
    };
    if (opts.vocabSize !== undefined) this.expect.vocabSize = opts.vocabSize;
    this.dbName = opts.dbName ?? 'kvshare';
    this.keys = storeKeys(opts.fingerprint);
    this.clock = opts.clock ?? Date.now;
    this.known = new KnownEntries(m.numHashes, opts.bands, opts.rows, m.ngram);
  }

  /** Open (or create) the store and rebuild the sketch index from index records. Never rejects for storage. */
  static async open(opts: PersistentEntryCacheOptions): Promise<PersistentEntryCache> {
    const cache = new PersistentEntryCache(opts);
    await cache.init();
    return cache;
  }

  /** What an index record must agree with: sketch length, payload size of its token count, the budget. */
  private get recordLimits(): RecordLimits {
    return { ...this.expect, numHashes: this.memory.numHashes, maxBytes: this.opts.budgetBytes };
  }

  /** Nothing new is written to IndexedDB: it is unavailable, or the quota stayed exceeded. */
  get memoryOnly(): boolean {
    return this.unavailableMode || (this.writer?.full ?? false);
  }

  /** Bytes the persisted payloads may take now: min(budgetBytes, our bytes + a share of the free quota). */
  get persistedBudget(): number {
    return this.writer?.budget ?? 0;
  }

  query(tokens: ArrayLike<number>, topK: number, opts: { threshold?: number } = {}): SketchMatch[] {
    return this.known.query(this.memory.sketch(tokens), tokens.length, topK, opts.threshold);
  }

  async get(id: string): Promise<KVEntry | undefined> {
    const hot = this.memory.get(id);
    if (hot) {
      this.touch(id, hot.lastUsed);
      return hot;
    }
    if (!this.idb) return undefined;
    let p = this.loading.get(id);
    if (!p) {
      p = this.load(id).finally(() => this.loading.delete(id));
      this.loading.set(id, p);
    }
    return p;
  }

  /** Validate, keep in memory, then write to IndexedDB. Throws only for an invalid entry, never for storage. */
  async store(input: KVEntry): Promise<void> {
    const { evicted, entry } = this.memory.store(input); // entry: converted to the cache's dtype
    this.afterMemoryAdd(evicted);
    const hadPersisted = this.known.stateOf(entry.id) === 'persisted';
    const writer = this.writer;
    const writable = writer !== undefined && !writer.full;
    const seq = this.known.set(indexRecordFor(entry, 0, 0), writable ? 'pending' : 'memory');
    if (!writer) return;
    await this.serial(async () => {
      if (writable) await writer.persist(entry, seq);
      else if (hadPersisted) await writer.remove(entry.id); // the stored copy is now stale
    });
  }

  async delete(id: string): Promise<boolean> {
    const present = this.known.has(id) || this.memory.has(id);
    this.forget(id);
    const writer = this.writer;
    if (writer) await this.serial(() => writer.remove(id));
    return present;
  }

  /** Remove every entry of this model (other models' entries in the same database are kept). */
  async clear(): Promise<void> {
    this.memory.clear();
    for (const id of this.known.ids()) this.forget(id);
    const writer = this.writer;
    if (writer) await this.serial(() => writer.removeAll());
  }

  /** Metadata of every known entry (persisted or memory-only), least recently used first. */
  list(): KVEntryMeta[] {
    return this.known.list(this.expect);
  }

  stats(): PersistentCacheStats {
    return {
      ...this.memory.stats(),
      persistedEntries: this.known.persistedEntries,
      persistedBytes: this.known.persistedBytes,
      corruptDeleted: this.corruptDeleted,
      memoryOnly: this.memoryOnly,
    };
  }

  persistence(): {
    persistedEntries: number;
    persistedBytes: number;
    corruptDeleted: number;
    memoryOnly: boolean;
  } {
    const { persistedEntries, persistedBytes, corruptDeleted, memoryOnly } = this.stats();
    return { persistedEntries, persistedBytes, corruptDeleted, memoryOnly };
  }

  recordHit(reusedTokens: number): void {
    this.memory.recordHit(reusedTokens);
  }

  recordMiss(): void {
    this.memory.recordMiss();
  }

  /** Wait for queued writes, then write pending lastUsed updates. */
  async flush(): Promise<void> {
    await this.chain;
    await this.touches?.flush();
  }

  /** Flush, then stop listening to other tabs. The cache still answers afterwards. */
  async close(): Promise<void> {
    await this.flush();
    this.channel?.close();
    this.channel = undefined;
  }

  // ---- opening ----

  private async init(): Promise<void> {
    const store = this.opts.store ?? this.defaultStore();
    if (!store) return;
    const ms = this.opts.openTimeoutMs ?? 5000;
    try {
      const scan = await withTimeout(
        scanIndex(store, this.keys, this.recordLimits),
        ms,
        () => new Error(`opening IndexedDB '${this.dbName}' did not finish within ${ms} ms (blocked?)`),
      );
      for (const rec of scan.records) this.known.set(rec, 'persisted');
      if (scan.corrupt > 0) {
        this.corruptDeleted += scan.corrupt;
        this.warn({
          kind: 'corrupt',
          message: `deleted ${scan.corrupt} broken KV cache index records on open`,
        });
      }
    } catch (e) {
      this.known.clear();
      this.unavailable(`IndexedDB could not be opened: ${errorMessage(e)}`, e);
      return;
    }
    this.idb = store;
    this.touches = new TouchWriter(store, this.opts.touchDelayMs ?? 2000);
    const o = this.opts;
    this.writer = new EntryWriter({
      store,
      keys: this.keys,
      known: this.known,
      budgetBytes: o.budgetBytes,
      quotaShare: o.quotaShare,
      estimate: o.estimate === undefined ? defaultEstimate() : (o.estimate ?? undefined),
      forget: (id) => this.forget(id),
      inMemory: (id) => this.memory.has(id),
      post: (type, id) => this.channel?.post(type, id),
      warn: (w) => this.warn(w),
    });
    await this.writer.refreshAllowance();
    await this.writer.evictToFit(0);
    const name = o.channelName ?? `kvshare:${this.dbName}`;
    this.channel = new TabChannel(name, this.expect.fingerprint, (n) => this.onNotice(n));
  }

  private defaultStore(): UseStore | undefined {
    if (!(globalThis as { indexedDB?: IDBFactory }).indexedDB) {
      this.unavailable('IndexedDB is not available in this context (private mode?)');
      return undefined;
    }
    return createStore(this.dbName, this.opts.storeName ?? 'kv');
  }

  // ---- reading ----

  private async load(id: string): Promise<KVEntry | undefined> {
    const store = this.idb!;
    try {
      let known = this.known.get(id);
      if (!known) {
        // written by another tab whose notice has not arrived yet
        const rec = parseIndexRecord(await readValue(store, this.keys.index(id)), id, this.recordLimits);
        if (!rec) return undefined;
        this.known.set(rec, 'persisted');
        known = this.known.get(id)!;
      }
      if (known.state !== 'persisted') return undefined;
      const raw = await readValue(store, this.keys.entry(id));
      if (this.known.get(id) !== known) return this.memory.peek(id); // deleted or replaced meanwhile
      if (raw === undefined) {
        if ((await readValue(store, this.keys.index(id))) === undefined) this.forget(id);
        else await this.discard(id, 'its index record has no payload (half-written or damaged)');
        return undefined;
      }
      return await this.admit(id, known, raw);
    } catch (e) {
      this.warn({
        kind: 'io',
        id,
        message: `reading KV cache entry ${id} failed: ${errorMessage(e)}`,
        cause: e,
      });
      return undefined;
    }
  }

  /** Decode a fetched payload and put it in the hot tier; a corrupt one is discarded. */
  private async admit(id: string, known: Known, raw: unknown): Promise<KVEntry | undefined> {
    const bytes =
      raw instanceof Uint8Array ? raw : raw instanceof ArrayBuffer ? new Uint8Array(raw) : undefined;
    let entry: KVEntry;
    try {
      if (!bytes) throw new CacheEntryError('cache entry payload is not binary data');
      entry = decodeEntry(bytes, this.expect);
      if (entry.id !== id) throw new CacheEntryError(`payload holds entry ${JSON.stringify(entry.id)}`);
    } catch (e) {
      await this.discard(id, errorMessage(e), e);
      return undefined;
    }
    try {
      const added = this.memory.store(entry); // converted to the cache's K/V dtype if stored in another
      entry = added.entry;
      this.afterMemoryAdd(added.evicted);
    } catch (e) {
      // Sound but made at a longer context than the loaded runner's: kept in IndexedDB, not served here.
      if (e instanceof CacheEntryError) return undefined;
      entry = conformEntry(entry, this.memory.expect.kvDtype, this.memory.expect.q8Group);
      entry.lastUsed = this.clock(); // larger than the memory budget: serve it without caching
    }
    const checksum = storedChecksum(bytes);
    if (checksum !== known.rec.checksum) {
      // rewritten by another tab between its payload and index writes: the payload is the truth
      this.known.set(indexRecordFor(entry, bytes.byteLength, checksum), 'persisted');
    }
    this.touch(id, entry.lastUsed);
    return entry;
  }

  private async discard(id: string, reason: string, cause?: unknown): Promise<void> {
    this.corruptDeleted++;
    this.forget(id);
    await this.writer?.remove(id);
    this.warn({ kind: 'corrupt', id, message: `KV cache entry ${id} was deleted: ${reason}`, cause });
  }

  private serial(fn: () => Promise<void>): Promise<void> {
    const next = this.chain.then(fn, fn);
    this.chain = next.catch(() => undefined);
    return next;
  }

  // ---- bookkeeping ----

  private touch(id: string, lastUsed: number): void {
    const k = this.known.touch(id, lastUsed);
    if (k?.state === 'persisted') this.touches?.add(this.keys.index(id), lastUsed);
  }

  /** Drop `id` from this instance (index, hot tier, pending touch); storage is not changed. */
  private forget(id: string): void {
    this.known.drop(id);
    this.memory.delete(id);
    this.touches?.cancel(this.keys.index(id));
  }

  /** Entries the hot tier evicted are gone unless they are (being) persisted. */
  private afterMemoryAdd(evicted: string[]): void {
    for (const id of evicted) if (this.known.stateOf(id) === 'memory') this.known.drop(id);
  }

  // ---- other tabs ----

  private onNotice(n: ChannelNotice): void {
    if (n.type === 'put') void this.refresh(n.id);
    else if (n.type === 'delete') {
      if (this.known.stateOf(n.id) === 'persisted') this.forget(n.id);
    } else {
      for (const id of this.known.ids('persisted')) this.forget(id);
    }
  }

  /** Re-read the index record of `id` after another tab wrote it. */
  private async refresh(id: string): Promise<void> {
    if (!this.idb) return;
    let rec: IndexRecord | undefined;
    try {
      rec = parseIndexRecord(await readValue(this.idb, this.keys.index(id)), id, this.recordLimits);
    } catch {
      return;
    }
    const cur = this.known.get(id);
    if (!rec || cur?.state === 'pending') return; // absent, or our own newer write follows
    if (cur?.state === 'persisted' && cur.rec.checksum === rec.checksum) return;
    this.memory.delete(id); // the hot copy, if any, is another version
    this.known.set(rec, 'persisted');
  }

  private unavailable(message: string, cause?: unknown): void {
    this.unavailableMode = true;
    this.warn({ kind: 'unavailable', message: `${message}; the KV cache works in memory only`, cause });
  }

  private warn(w: StoreWarning): void {
    try {
      this.opts.onWarning?.(w);
    } catch {
      // a listener's failure must not fail the cache
    }
  }
}
