/**
 * The few multi-step IndexedDB operations the persistent cache needs, each one transaction on an
 * idb-keyval store, so that a check and the write depending on it are atomic even with several tabs:
 * an index record is only written while its payload exists, and an orphan payload is only deleted while
 * its index record is absent.
 */
import { delMany, get, getMany, keys, set, type UseStore } from 'idb-keyval';
import { type IndexRecord, parseIndexRecord, type RecordLimits, type StoreKeys } from './records.ts';

type Guard = <A extends unknown[]>(fn: (...args: A) => void) => (...args: A) => void;

/**
 * Run `body` in one transaction; resolves with `body`'s returned getter after the transaction commits.
 * A throw inside `body` or inside a callback wrapped by `guard` aborts the transaction and rejects with it.
 */
function transact<T>(
  store: UseStore,
  mode: IDBTransactionMode,
  body: (s: IDBObjectStore, guard: Guard) => () => T,
): Promise<T> {
  return store(
    mode,
    (s) =>
      new Promise<T>((resolve, reject) => {
        const tx = s.transaction;
        let failure: unknown;
        let result: (() => T) | undefined;
        const abort = (e: unknown) => {
          failure ??= e;
          try {
            tx.abort();
          } catch {
            // already finished or aborting
          }
          reject(e);
        };
        const guard: Guard =
          (fn) =>
          (...args) => {
            try {
              fn(...args);
            } catch (e) {
              abort(e);
            }
          };
        tx.oncomplete = () => resolve(result ? result() : (undefined as T));
        tx.onabort = tx.onerror = () =>
          reject(failure ?? tx.error ?? new DOMException('IndexedDB transaction aborted', 'AbortError'));
        try {
          result = body(s, guard);
        } catch (e) {
          abort(e);
        }
      }),
  );
}

export function listKeys(store: UseStore): Promise<IDBValidKey[]> {
  return keys(store);
}

export function readValue(store: UseStore, key: string): Promise<unknown> {
  return get<unknown>(key, store);
}

export function readValues(store: UseStore, ks: string[]): Promise<unknown[]> {
  return ks.length === 0 ? Promise.resolve([]) : getMany<unknown>(ks, store);
}

export function writeValue(store: UseStore, key: string, value: unknown): Promise<void> {
  return set(key, value, store);
}

export function deleteKeys(store: UseStore, ks: string[]): Promise<void> {
  return ks.length === 0 ? Promise.resolve() : delMany(ks, store);
}

/** Write `record` under `indexKey` only if `payloadKey` exists; resolves whether it was written. */
export function putIndexIfPayload(
  store: UseStore,
  payloadKey: string,
  indexKey: string,
  record: unknown,
): Promise<boolean> {
  return transact(store, 'readwrite', (s, guard) => {
    let wrote = false;
    const req = s.count(payloadKey);
    req.onsuccess = guard(() => {
      if (req.result === 0) return;
      s.put(record, indexKey);
      wrote = true;
    });
    return () => wrote;
  });
}

/**
 * For each pair, delete `key` if `mustBeAbsent` does not exist at the time (an orphan payload, or an index
 * record whose payload is gone); resolves how many keys were deleted.
 */
export function deleteIfAbsent(
  store: UseStore,
  pairs: [key: string, mustBeAbsent: string][],
): Promise<number> {
  if (pairs.length === 0) return Promise.resolve(0);
  return transact(store, 'readwrite', (s, guard) => {
    let deleted = 0;
    for (const [key, mustBeAbsent] of pairs) {
      const req = s.count(mustBeAbsent);
      req.onsuccess = guard(() => {
        if (req.result !== 0) return;
        s.delete(key);
        deleted++;
      });
    }
    return () => deleted;
  });
}

/** Set `lastUsed` on each existing index record (absent ones stay absent). */
export function touchIndexRecords(
  store: UseStore,
  updates: [indexKey: string, lastUsed: number][],
): Promise<void> {
  if (updates.length === 0) return Promise.resolve();
  return transact(store, 'readwrite', (s, guard) => {
    for (const [indexKey, lastUsed] of updates) {
      const req = s.get(indexKey);
      req.onsuccess = guard(() => {
        const rec: unknown = req.result;
        if (typeof rec !== 'object' || rec === null) return;
        s.put({ ...rec, lastUsed }, indexKey);
      });
    }
    return () => undefined;
  });
}

export interface ScanResult {
  records: IndexRecord[]; // well-formed index records whose payload exists
  corrupt: number; // broken or payload-less index records deleted
  orphans: number; // payloads without an index record deleted (left by a write cut short)
}

/**
 * Read every index record under `keys` (never a payload); delete broken index records, index records
 * without a payload, and payloads without an index record. Other models' and versions' keys are ignored.
 */
export async function scanIndex(store: UseStore, k: StoreKeys, limits: RecordLimits): Promise<ScanResult> {
  const indexIds: string[] = [];
  const payloadIds = new Set<string>();
  for (const key of await listKeys(store)) {
    if (typeof key !== 'string') continue;
    if (key.startsWith(k.indexPrefix)) indexIds.push(key.slice(k.indexPrefix.length));
    else if (key.startsWith(k.entryPrefix)) payloadIds.add(key.slice(k.entryPrefix.length));
  }
  const values = await readValues(store, indexIds.map(k.index));
  const records: IndexRecord[] = [];
  const broken: string[] = [];
  const payloadless: [string, string][] = [];
  indexIds.forEach((id, i) => {
    if (values[i] === undefined) return; // deleted since the key listing
    const rec = parseIndexRecord(values[i], id, limits);
    if (!rec) broken.push(k.index(id), k.entry(id));
    else if (!payloadIds.has(id)) payloadless.push([k.index(id), k.entry(id)]);
    else records.push(rec);
  });
  const indexed = new Set(indexIds);
  const orphanPairs = [...payloadIds]
    .filter((id) => !indexed.has(id))
    .map((id): [string, string] => [k.entry(id), k.index(id)]);
  await deleteKeys(store, broken);
  const corrupt = broken.length / 2 + (await deleteIfAbsent(store, payloadless));
  const orphans = await deleteIfAbsent(store, orphanPairs);
  return { records, corrupt, orphans };
}

/** Batches lastUsed updates of index records and writes them every `delayMs` (recency is advisory). */
export class TouchWriter {
  private readonly pending = new Map<string, number>(); // index key → lastUsed
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly store: UseStore,
    private readonly delayMs: number,
  ) {}

  add(indexKey: string, lastUsed: number): void {
    this.pending.set(indexKey, lastUsed);
    if (this.timer !== undefined) return;
    this.timer = setTimeout(() => void this.flush(), this.delayMs);
    (this.timer as { unref?: () => void }).unref?.(); // Node: do not keep the process alive
  }

  cancel(indexKey: string): void {
    this.pending.delete(indexKey);
  }

  async flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pending.size === 0) return;
    const updates = [...this.pending];
    this.pending.clear();
    try {
      await touchIndexRecords(this.store, updates);
    } catch {
      // a lost recency update only changes which entry is evicted first
    }
  }
}
