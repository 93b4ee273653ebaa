/** Fixtures for the src/store tests: entries, caches on fake-indexeddb, store wrappers that fail or count. */
import { createStore, type UseStore } from 'idb-keyval';
import { expect } from 'vitest';
import { type KVEntry, makeEntry } from '../../src/kvshare/entry.ts';
import { MemoryTier } from '../../src/kvshare/memory-tier.ts';
import { PersistentEntryCache, type PersistentEntryCacheOptions } from '../../src/store/idb-store.ts';
import type { StoreWarning } from '../../src/store/records.ts';
import { mulberry32 } from '../../src/util/prng.ts';

export const MODEL = { fingerprint: 'cd'.repeat(32), numLayers: 2, kvDim: 8, vocabSize: 1000 };
export const OTHER_MODEL = { ...MODEL, fingerprint: 'ef'.repeat(32) };

let dbCounter = 0;
/** A database name no other test uses. */
export function freshDbName(tag: string): string {
  return `kvshare-test-${tag}-${process.pid}-${++dbCounter}`;
}

/** Deterministic values in [-1, 1) from a seed (mulberry32). */
export function seeded(seed: number): () => number {
  const next = mulberry32(seed);
  return () => next() * 2 - 1;
}

/** An entry with T tokens starting at `first`, random K/V from `seed`. */
export function testEntry(
  id: string,
  T = 6,
  opts: { first?: number; seed?: number; model?: typeof MODEL; exact?: boolean; now?: number } = {},
): KVEntry {
  const model = opts.model ?? MODEL;
  const rnd = seeded(opts.seed ?? id.length * 7919 + T);
  const layer = () => Float32Array.from({ length: T * model.kvDim }, rnd); // [T, kvDim]
  const first = opts.first ?? 1;
  return makeEntry({
    id,
    fingerprint: model.fingerprint,
    tokens: Array.from({ length: T }, (_, i) => (first + i) % model.vocabSize),
    numLayers: model.numLayers,
    kvDim: model.kvDim,
    k: Array.from({ length: model.numLayers }, layer),
    v: Array.from({ length: model.numLayers }, layer),
    now: opts.now ?? 0,
    exact: opts.exact ?? false,
  });
}

/** A clock that advances 1 ms per call. */
export function tickingClock(start = 1_000_000): () => number {
  let t = start;
  return () => t++;
}

export interface OpenedCache {
  cache: PersistentEntryCache;
  memory: MemoryTier;
  warnings: StoreWarning[];
}

/** A PersistentEntryCache with its own MemoryTier (budget 64 MiB unless given) and a warning log. */
export async function openCache(
  dbName: string,
  opts: Partial<PersistentEntryCacheOptions> & { memoryBudget?: number; model?: typeof MODEL } = {},
): Promise<OpenedCache> {
  const model = opts.model ?? MODEL;
  const clock = opts.clock ?? tickingClock();
  const memory = new MemoryTier({ ...model, budgetBytes: opts.memoryBudget ?? 64 << 20, clock });
  const warnings: StoreWarning[] = [];
  const cache = await PersistentEntryCache.open({
    ...model,
    budgetBytes: 64 << 20,
    estimate: null,
    touchDelayMs: 10,
    ...opts,
    dbName,
    memory,
    clock,
    onWarning: (w) => warnings.push(w),
  });
  return { cache, memory, warnings };
}

/** The same database the cache uses, for inspecting or damaging it directly. */
export function rawStore(dbName: string): UseStore {
  return createStore(dbName, 'kv');
}

export function quotaError(): DOMException {
  return new DOMException('The quota has been exceeded.', 'QuotaExceededError');
}

/** Wrap `base` so that object-store calls can be intercepted: `put` may throw, `get`s are logged. */
export function instrumentedStore(
  base: UseStore,
  hooks: { failPut?: (key: IDBValidKey) => boolean; onGet?: (key: IDBValidKey) => void },
): UseStore {
  const wrap = (s: IDBObjectStore): IDBObjectStore =>
    new Proxy(s, {
      get(target, prop) {
        if (prop === 'put') {
          return (value: unknown, key?: IDBValidKey) => {
            if (key !== undefined && hooks.failPut?.(key)) throw quotaError();
            return target.put(value, key);
          };
        }
        if (prop === 'get') {
          return (key: IDBValidKey) => {
            hooks.onGet?.(key);
            return target.get(key);
          };
        }
        const v: unknown = Reflect.get(target, prop, target);
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    });
  return (mode, cb) => base(mode, (s) => cb(wrap(s)));
}

/** `got` holds exactly `want`'s data (recency aside). */
export function expectSameEntry(got: KVEntry | undefined, want: KVEntry): void {
  expect(got).toBeDefined();
  const g = got!;
  const head = (e: KVEntry) => [e.id, e.fingerprint, e.numLayers, e.kvDim, e.exact, e.createdAt];
  expect(head(g)).toEqual(head(want));
  expect(g.tokens).toEqual(want.tokens);
  expect(g.positions).toEqual(want.positions);
  expect(g.sketch).toEqual(want.sketch);
  expect(g.k.length).toBe(want.k.length);
  for (let l = 0; l < want.k.length; l++) {
    expect(g.k[l]).toEqual(want.k[l]);
    expect(g.v[l]).toEqual(want.v[l]);
  }
}
