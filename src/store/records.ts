/**
 * What the persistent KV cache keeps in IndexedDB besides payloads: key names, the small per-entry index
 * record that open() reads instead of payloads, warnings, and quota helpers.
 *
 * Keys (one pair per entry, so writers in different tabs never share a record):
 *   entry:<fingerprint>:<formatVersion>:<id>  → Uint8Array payload (codec.ts)
 *   index:<fingerprint>:<formatVersion>:<id>  → IndexRecord
 * An entry is visible only while its index record exists; the index record is written after the payload.
 */
import type { EngineWarning } from '../api/cache.ts';
import { CacheEntryError } from '../errors.ts';
import type { EntryExpectation, KVEntry, KVEntryMeta } from '../kvshare/entry.ts';
import { checkUserMeta, type EntryUserMeta } from '../kvshare/user-meta.ts';
import { KV_DTYPES, type KVStorage, kvBytes } from '../util/kv-dtype.ts';
import { isQ8Group, Q8_MAX_GROUP } from '../util/kv-q8.ts';
import { metaByteLength, payloadLength } from './codec.ts';

/**
 * The version in key names: the key layout's, not the payload format's (payloads of entry format 1
 * and 2 live under the same keys; the codec tells them apart), so entries written before the K/V
 * dtype field stay readable.
 */
export const STORE_KEY_VERSION = 1;

export interface IndexRecord {
  id: string;
  sketch: Uint32Array; // [numHashes] MinHash signature of the entry's tokens
  numTokens: number; // T
  bytes: number; // payload bytes in IndexedDB (what the persisted budget counts)
  exact: boolean;
  createdAt: number;
  lastUsed: number;
  checksum: number; // CRC-32 stored at the end of the payload
  meta?: EntryUserMeta; // the entry's application metadata, as its payload holds it
}

/** Something the cache wants the application to know; it never throws for these. */
/** An EngineWarning with the error behind it (logged, not sent to the page). */
export interface StoreWarning extends EngineWarning {
  cause?: unknown;
}

export interface StorageEstimateLike {
  usage?: number;
  quota?: number;
}

export interface StoreKeys {
  entryPrefix: string;
  indexPrefix: string;
  entry(id: string): string;
  index(id: string): string;
}

export function storeKeys(fingerprint: string, version = STORE_KEY_VERSION): StoreKeys {
  const entryPrefix = `entry:${fingerprint}:${version}:`;
  const indexPrefix = `index:${fingerprint}:${version}:`;
  return {
    entryPrefix,
    indexPrefix,
    entry: (id) => entryPrefix + id,
    index: (id) => indexPrefix + id,
  };
}

export function indexRecordFor(e: KVEntry, payloadBytes: number, checksum: number): IndexRecord {
  return {
    id: e.id,
    sketch: e.sketch.slice(), // own buffer: a decoded entry's sketch is a view into its whole payload
    numTokens: e.tokens.length,
    bytes: payloadBytes,
    exact: e.exact,
    createdAt: e.createdAt,
    lastUsed: e.lastUsed,
    checksum,
    ...(e.meta ? { meta: e.meta } : {}),
  };
}

const isCount = (n: unknown): n is number => typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;

/** What an index record is checked against: the model's shapes, the sketch length, the persisted budget. */
export interface RecordLimits extends EntryExpectation {
  numHashes: number;
  maxBytes: number;
}

/**
 * The record when `value` is a well-formed index record for `id`; undefined otherwise. Its `bytes` must
 * be exactly the payload length its token count implies (codec.ts) and within the budget, so a record
 * cannot make stats() or eviction believe in entries that are not there.
 */
export function parseIndexRecord(value: unknown, id: string, limits: RecordLimits): IndexRecord | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const r = value as Partial<IndexRecord>;
  if (r.id !== id || !(r.sketch instanceof Uint32Array) || r.sketch.length !== limits.numHashes)
    return undefined;
  if (!isCount(r.numTokens) || r.numTokens === 0 || !isCount(r.bytes) || !isCount(r.checksum))
    return undefined;
  if (r.bytes > limits.maxBytes || !recordMetaValid(r.meta)) return undefined;
  const enc = new TextEncoder();
  const strings = enc.encode(id).length + enc.encode(limits.fingerprint).length;
  if (recordStorage(r as IndexRecord, strings, limits) === undefined) return undefined;
  if (typeof r.exact !== 'boolean' || !Number.isFinite(r.createdAt) || !Number.isFinite(r.lastUsed)) {
    return undefined;
  }
  return r as IndexRecord;
}

/** Whether a record's `meta` is absent or valid metadata (checked before its length counts in `bytes`). */
function recordMetaValid(meta: unknown): boolean {
  if (meta === undefined) return true;
  try {
    return (
      checkUserMeta(meta, (msg) => {
        throw new CacheEntryError(msg);
      }) !== undefined
    );
  } catch {
    return false;
  }
}

/** Every K/V storage an entry of kvDim values per row may have: f32, f16, q8 in each group dividing kvDim. */
function storagesFor(kvDim: number): KVStorage[] {
  const groups = Array.from({ length: Q8_MAX_GROUP }, (_, i) => i + 1).filter(
    (g) => isQ8Group(g) && kvDim % g === 0,
  );
  return [
    ...KV_DTYPES.filter((d) => d !== 'q8').map((dtype) => ({ dtype })),
    ...groups.map((q8Group) => ({ dtype: 'q8' as const, q8Group })),
  ];
}

/** A K/V storage whose payload length the record's `bytes` is (undefined: none, a bad record). */
function recordStorage(
  r: IndexRecord,
  stringBytes: number,
  shape: { numLayers: number; kvDim: number; numHashes?: number },
): KVStorage | undefined {
  const S = shape.numHashes ?? r.sketch.length;
  return storagesFor(shape.kvDim).find(
    (kv) =>
      r.bytes ===
      payloadLength(stringBytes, r.numTokens, shape.numLayers, shape.kvDim, S, kv, metaByteLength(r.meta)),
  );
}

/** KVEntryMeta of a record; `bytes` is entryBytes() of the entry (array bytes), as MemoryTier reports. */
export function recordMeta(r: IndexRecord, expect: EntryExpectation): KVEntryMeta {
  const T = r.numTokens;
  const strings = new TextEncoder().encode(r.id).length + new TextEncoder().encode(expect.fingerprint).length;
  const kv = recordStorage(r, strings, { ...expect, numHashes: r.sketch.length }) ?? { dtype: 'f32' };
  return {
    id: r.id,
    fingerprint: expect.fingerprint,
    numTokens: T,
    numLayers: expect.numLayers,
    kvDim: expect.kvDim,
    bytes:
      4 * (2 * T + r.sketch.length) +
      2 * expect.numLayers * kvBytes(kv.dtype, T * expect.kvDim, kv.q8Group ?? 0),
    exact: r.exact,
    createdAt: r.createdAt,
    lastUsed: r.lastUsed,
    ...(r.meta ? { meta: { ...r.meta } } : {}),
  };
}

/** A storage-full error: DOMException 'QuotaExceededError' (Firefox: NS_ERROR_DOM_QUOTA_REACHED) or lookalike. */
export function isQuotaError(e: unknown): boolean {
  if (typeof e !== 'object' || e === null) return false;
  const name = (e as { name?: unknown }).name;
  return name === 'QuotaExceededError' || name === 'NS_ERROR_DOM_QUOTA_REACHED';
}

/** Share of the free quota this cache may fill: our bytes + `share` of (quota − usage). Infinity if unknown. */
export function quotaAllowance(est: StorageEstimateLike | undefined, ourBytes: number, share = 0.5): number {
  const quota = est?.quota;
  if (typeof quota !== 'number' || !Number.isFinite(quota) || quota <= 0) return Number.POSITIVE_INFINITY;
  const usage = typeof est?.usage === 'number' && Number.isFinite(est.usage) ? est.usage : 0;
  return Math.max(0, Math.floor(ourBytes + share * Math.max(0, quota - usage)));
}

/** navigator.storage.estimate bound to its object, when this runtime has one. */
export function defaultEstimate(): (() => Promise<StorageEstimateLike>) | undefined {
  const nav = (globalThis as { navigator?: { storage?: { estimate?: () => Promise<StorageEstimateLike> } } })
    .navigator;
  const storage = nav?.storage;
  if (!storage || typeof storage.estimate !== 'function') return undefined;
  return () => storage.estimate!();
}

/** Reject with `make()` when `p` has not settled after `ms` milliseconds. */
export function withTimeout<T>(p: Promise<T>, ms: number, make: () => Error): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(make()), ms);
    p.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(timer);
        reject(e);
      },
    );
  });
}

export function errorMessage(e: unknown): string {
  return e instanceof Error || (typeof e === 'object' && e !== null && 'message' in e)
    ? String((e as { message: unknown }).message)
    : String(e);
}
