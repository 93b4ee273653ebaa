import 'fake-indexeddb/auto';
import { get } from 'idb-keyval';
import { describe, expect, it } from 'vitest';
import { CacheEntryError, CachePackError, InvalidArgumentError } from '../../src/errors.ts';
import { MemoryEntryCache } from '../../src/kvshare/entry-cache.ts';
import { MemoryTier } from '../../src/kvshare/memory-tier.ts';
import { decodePack, encodePack, exportPack, importPack, PACK_MAGIC } from '../../src/store/pack.ts';
import { storeKeys } from '../../src/store/records.ts';
import {
  expectSameEntry,
  freshDbName,
  MODEL,
  OTHER_MODEL,
  openCache,
  rawStore,
  testEntry,
} from './helpers.ts';

const memoryBackend = () => new MemoryEntryCache(new MemoryTier({ ...MODEL, budgetBytes: 64 << 20 }));
const ENTRIES = [
  testEntry('p-one', 5, { exact: true }),
  testEntry('p-two', 9, { first: 40 }),
  testEntry('p-3', 1),
];
const PACK = encodePack(ENTRIES, MODEL.fingerprint);
const dv = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength);
const TABLE = 88; // first table row
const rowOffset = (b: Uint8Array, i: number) => {
  let pos = TABLE;
  for (let r = 0; r < i; r++) pos += Math.ceil((20 + dv(b).getUint32(pos + 16, true)) / 8) * 8;
  return pos;
};
const entryAt = (b: Uint8Array, i: number) => Number(dv(b).getBigUint64(rowOffset(b, i), true));

/** Each malformed pack must be rejected by decodePack and by importPack, leaving the backend empty. */
async function expectRejected(bytes: Uint8Array, pattern: RegExp, opts = {}): Promise<CachePackError> {
  let err: unknown;
  try {
    decodePack(bytes, MODEL, opts);
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(CachePackError);
  expect((err as Error).message).toMatch(pattern);
  const backend = memoryBackend();
  await expect(importPack(backend, bytes, MODEL, opts)).rejects.toBeInstanceOf(CachePackError);
  expect(backend.list()).toEqual([]);
  return err as CachePackError;
}

describe('KV packs', () => {
  it('has the documented header', () => {
    expect(new TextDecoder().decode(PACK.subarray(0, 8))).toBe(PACK_MAGIC);
    expect(dv(PACK).getUint32(8, true)).toBe(1);
    expect(dv(PACK).getUint32(12, true)).toBe(3);
    expect(new TextDecoder().decode(PACK.subarray(16, 80))).toBe(MODEL.fingerprint);
    for (let i = 0; i < 3; i++) expect(entryAt(PACK, i) % 8).toBe(0);
  });

  it('round-trips through decodePack, each entry owning its buffer', () => {
    const out = decodePack(PACK, MODEL);
    expect(out).toHaveLength(3);
    out.forEach((e, i) => {
      expectSameEntry(e, ENTRIES[i]);
      expect(e.k[0].buffer).not.toBe(PACK.buffer);
    });
    expect(decodePack(encodePack([], MODEL.fingerprint), MODEL)).toEqual([]);
  });

  it('exports from and imports into memory backends (Uint8Array, ArrayBuffer and Blob)', async () => {
    const src = memoryBackend();
    for (const e of ENTRIES) await src.store(e);
    const pack = await exportPack(src, MODEL.fingerprint);
    for (const data of [pack, pack.slice().buffer, new Blob([pack])]) {
      const dst = memoryBackend();
      const { ids } = await importPack(dst, data, MODEL);
      expect(ids).toEqual(ENTRIES.map((e) => e.id));
      // imported entries are approximate: a pack's exact flag is not trusted
      for (const e of ENTRIES) expectSameEntry(await dst.get(e.id), { ...e, exact: false });
    }
    const some = decodePack(await exportPack(src, MODEL.fingerprint, ['p-two', 'missing']), MODEL);
    expect(some.map((e) => e.id)).toEqual(['p-two']);
  });

  it('exports from and imports into persistent backends', async () => {
    const dbA = freshDbName('pack-a');
    const a = await openCache(dbA);
    for (const e of ENTRIES) await a.cache.store(e);
    await a.cache.close();
    const reopened = await openCache(dbA); // payloads come from IndexedDB, not memory
    const pack = await exportPack(reopened.cache, MODEL.fingerprint);
    await reopened.cache.close();

    const dbB = freshDbName('pack-b');
    const b = await openCache(dbB);
    await importPack(b.cache, new Blob([pack]), MODEL);
    await b.cache.close();
    // index records stay small even though imported entries are views into their payload buffers
    const rec = await get<{ sketch: Uint32Array }>(
      storeKeys(MODEL.fingerprint).index('p-two'),
      rawStore(dbB),
    );
    expect(rec?.sketch.buffer.byteLength).toBe(rec?.sketch.byteLength);
    const c = await openCache(dbB);
    expect(
      c.cache
        .list()
        .map((m) => m.id)
        .sort(),
    ).toEqual(ENTRIES.map((e) => e.id).sort());
    for (const e of ENTRIES) expectSameEntry(await c.cache.get(e.id), { ...e, exact: false });
    await c.cache.close();
  });

  it('rejects a wrong magic, version or fingerprint', async () => {
    const magic = PACK.slice();
    magic[3] = 0x21;
    await expectRejected(magic, /wrong magic/);
    const version = PACK.slice();
    dv(version).setUint32(8, 2, true);
    await expectRejected(version, /format version 2/);
    await expectRejected(
      encodePack([testEntry('o', 4, { model: OTHER_MODEL })], OTHER_MODEL.fingerprint),
      /another model/,
    );
    const garbled = PACK.slice();
    garbled[20] = 0x47; // 'G' is not hex
    await expectRejected(garbled, /malformed model fingerprint/);
  });

  it('rejects tables whose offsets and lengths do not add up or leave the pack', async () => {
    const count = PACK.slice();
    dv(count).setUint32(12, 4, true); // one row more than the table holds
    await expectRejected(count, /table is too short/);
    const fewer = PACK.slice();
    dv(fewer).setUint32(12, 2, true);
    await expectRejected(fewer, /do not add up/);
    const gap = PACK.slice();
    dv(gap).setBigUint64(rowOffset(gap, 1), BigInt(entryAt(gap, 1) + 8), true);
    await expectRejected(gap, /do not add up|overlaps/);
    const overlap = PACK.slice();
    dv(overlap).setBigUint64(rowOffset(overlap, 1), BigInt(entryAt(overlap, 0)), true);
    await expectRejected(overlap, /overlaps/);
    const outside = PACK.slice();
    dv(outside).setBigUint64(rowOffset(outside, 2) + 8, BigInt(PACK.length), true);
    await expectRejected(outside, /outside the pack/);
    const huge = PACK.slice();
    dv(huge).setBigUint64(rowOffset(huge, 0), 2n ** 60n, true);
    await expectRejected(huge, /beyond the pack/);
    const table = PACK.slice();
    dv(table).setUint32(80, 1 << 30, true);
    await expectRejected(table, /truncated/);
    const longer = new Uint8Array(PACK.length + 8);
    longer.set(PACK);
    await expectRejected(longer, /do not add up/);
    const shortLen = PACK.slice();
    const len0 = Number(dv(shortLen).getBigUint64(rowOffset(shortLen, 0) + 8, true));
    dv(shortLen).setBigUint64(rowOffset(shortLen, 0) + 8, BigInt(len0 - 4), true);
    await expectRejected(shortLen, /do not add up|padding|invalid/);
  });

  it('enforces the size and entry-count caps', async () => {
    await expectRejected(PACK, /too large/, { maxBytes: PACK.length - 1 });
    await expectRejected(PACK, /holds 3 entries/, { maxEntries: 2 });
    const backend = memoryBackend();
    const blob = new Blob([PACK]);
    await expect(importPack(backend, blob, MODEL, { maxBytes: 100 })).rejects.toThrow(/too large/);
    expect(backend.list()).toEqual([]);
  });

  it('rejects a truncated pack and a corrupt entry inside, naming the entry', async () => {
    await expectRejected(PACK.subarray(0, PACK.length - 16), /outside the pack/);
    await expectRejected(PACK.subarray(0, 40), /truncated/);
    const corrupt = PACK.slice();
    corrupt[entryAt(corrupt, 2) + 70] ^= 0x08; // inside the last entry's data
    const err = await expectRejected(corrupt, /entry 2 \("p-3"\) is invalid: .*checksum/);
    expect(err.cause).toBeInstanceOf(CacheEntryError);
    const renamed = PACK.slice();
    renamed[rowOffset(renamed, 0) + 20] = 'q'.charCodeAt(0); // table says "q-one"
    await expectRejected(renamed, /table names "q-one"/);
  });

  it('refuses a pack with an entry larger than the budget before storing anything', async () => {
    const small = new MemoryEntryCache(new MemoryTier({ ...MODEL, budgetBytes: 2000 }));
    await small.store(testEntry('kept', 2));
    const big = testEntry('big', 40, { first: 300 });
    const pack = encodePack([testEntry('fits', 3, { first: 90 }), big], MODEL.fingerprint);
    await expect(importPack(small, pack, MODEL)).rejects.toThrow(/entry 1 \("big"\) needs \d+ bytes/);
    expect(small.list().map((m) => m.id)).toEqual(['kept']);
  });

  it('refuses to encode mixed models, duplicate ids or a malformed fingerprint', () => {
    expect(() => encodePack([testEntry('o', 4, { model: OTHER_MODEL })], MODEL.fingerprint)).toThrow(
      InvalidArgumentError,
    );
    expect(() => encodePack([testEntry('d'), testEntry('d')], MODEL.fingerprint)).toThrow(/twice/);
    expect(() => encodePack([], 'abc')).toThrow(InvalidArgumentError);
  });
});
