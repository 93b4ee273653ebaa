import 'fake-indexeddb/auto';
import { del, get, keys, set } from 'idb-keyval';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { conformEntry, entryMeta } from '../../src/kvshare/entry.ts';
import { encodeEntry } from '../../src/store/codec.ts';
import { storeKeys } from '../../src/store/records.ts';
import { f32ArrayToF16 } from '../../src/util/kv-dtype.ts';
import { dequantizeQ8, quantizeQ8 } from '../../src/util/kv-q8.ts';
import {
  expectSameEntry,
  freshDbName,
  instrumentedStore,
  MODEL,
  OTHER_MODEL,
  openCache,
  quotaError,
  rawStore,
  testEntry,
} from './helpers.ts';

const K = storeKeys(MODEL.fingerprint);
const PAYLOAD = encodeEntry(testEntry('size', 6)).length; // payload bytes of a 6-token entry (4-char id)

afterEach(() => {
  vi.unstubAllGlobals();
});

describe('PersistentEntryCache: persistence', () => {
  it('round-trips entries through IndexedDB and a re-open sees them via the index', async () => {
    const db = freshDbName('roundtrip');
    const a = testEntry('a', 7, { exact: true });
    const b = testEntry('b', 5, { first: 100 });
    const first = await openCache(db);
    await first.cache.store(a);
    await first.cache.store(b);
    expectSameEntry(await first.cache.get('a'), a);
    await first.cache.close();

    let entryReads = 0;
    const store = instrumentedStore(rawStore(db), {
      onGet: (k) => {
        if (String(k).startsWith('entry:')) entryReads++;
      },
    });
    const second = await openCache(db, { store });
    expect(entryReads).toBe(0); // open() reads index records only
    expect(second.memory.stats().entries).toBe(0);
    expect(
      second.cache
        .list()
        .map((m) => m.id)
        .sort(),
    ).toEqual(['a', 'b']);
    const meta = second.cache.list().find((m) => m.id === 'a')!;
    expect({ ...meta, lastUsed: 0 }).toEqual({ ...entryMeta(a), lastUsed: 0 });
    expect(second.cache.query(a.tokens, 5)[0]).toEqual({ id: 'a', similarity: 1, jaccard: 1 });
    expectSameEntry(await second.cache.get('a'), a);
    expectSameEntry(await second.cache.get('b'), b);
    expect(entryReads).toBe(2);
    await second.cache.get('a'); // the hot tier answers now
    expect(entryReads).toBe(2);
    expect(second.cache.stats()).toMatchObject({ persistedEntries: 2, corruptDeleted: 0, memoryOnly: false });
    expect(second.warnings).toEqual([]);
    await second.cache.close();
  });

  it('reports the same metadata as the memory cache and stores lastUsed updates', async () => {
    const db = freshDbName('meta');
    const { cache, memory } = await openCache(db);
    await cache.store(testEntry('m1', 6));
    expect(cache.list()).toEqual(memory.list());
    const got = await cache.get('m1');
    await cache.flush();
    const rec = await get<{ lastUsed: number }>(K.index('m1'), rawStore(db));
    expect(rec?.lastUsed).toBe(got?.lastUsed);
    await cache.close();
  });

  it('evicts least recently used entries and never exceeds the persisted budget', async () => {
    const db = freshDbName('evict');
    const budget = 3 * PAYLOAD + 10;
    const { cache } = await openCache(db, { budgetBytes: budget });
    const raw = rawStore(db);
    const storedBytes = async () => {
      let sum = 0;
      for (const k of await keys(raw)) {
        if (String(k).startsWith('entry:')) sum += ((await get(k, raw)) as Uint8Array).byteLength;
      }
      return sum;
    };
    for (const id of ['e1', 'e2', 'e3'])
      await cache.store(testEntry(id, 6, { first: id.charCodeAt(1) * 10 }));
    await cache.get('e1'); // e1 becomes most recent; e2 is now the LRU
    for (const id of ['e4', 'e5']) {
      await cache.store(testEntry(id, 6, { first: id.charCodeAt(1) * 10 }));
      expect(cache.stats().persistedBytes).toBeLessThanOrEqual(budget);
      expect(await storedBytes()).toBeLessThanOrEqual(budget);
    }
    expect(cache.list().map((m) => m.id)).toEqual(['e1', 'e4', 'e5']);
    expect(await get(K.index('e2'), raw)).toBeUndefined();
    expect(await get(K.entry('e3'), raw)).toBeUndefined();
    expect(await cache.get('e2')).toBeUndefined();
    await cache.close();
    const again = await openCache(db, { budgetBytes: 2 * PAYLOAD }); // a smaller budget evicts on open
    expect(again.cache.list().map((m) => m.id)).toEqual(['e4', 'e5']);
    expect(await storedBytes()).toBeLessThanOrEqual(2 * PAYLOAD);
    await again.cache.close();
  });

  it('caps the budget at a share of the free quota', async () => {
    const db = freshDbName('estimate');
    const estimate = async () => ({ quota: 10 * PAYLOAD, usage: 6 * PAYLOAD });
    const { cache } = await openCache(db, { estimate, budgetBytes: 100 * PAYLOAD });
    expect(cache.persistedBudget).toBe(2 * PAYLOAD); // 0 of ours + 50% of the 4 payloads free
    for (const id of ['q1', 'q2', 'q3'])
      await cache.store(testEntry(id, 6, { first: id.charCodeAt(1) * 10 }));
    expect(cache.stats().persistedEntries).toBe(2);
    expect(cache.stats().persistedBytes).toBeLessThanOrEqual(2 * PAYLOAD);
    await cache.close();
  });

  it('clear() removes only this model’s keys', async () => {
    const db = freshDbName('clear');
    const mine = await openCache(db);
    const other = await openCache(db, { model: OTHER_MODEL });
    await mine.cache.store(testEntry('x1'));
    await other.cache.store(testEntry('y1', 6, { model: OTHER_MODEL }));
    await mine.cache.clear();
    expect(mine.cache.list()).toEqual([]);
    const left = (await keys(rawStore(db))).map(String);
    expect(left.every((k) => k.includes(OTHER_MODEL.fingerprint))).toBe(true);
    expect(left).toHaveLength(2);
    await Promise.all([mine.cache.close(), other.cache.close()]);
  });
});

describe('PersistentEntryCache: quota', () => {
  it('evicts and retries once when a write hits QuotaExceededError', async () => {
    const db = freshDbName('quota-retry');
    let failures = 0;
    const store = instrumentedStore(rawStore(db), {
      failPut: (k) => String(k).startsWith('entry:') && failures-- > 0,
    });
    const { cache, warnings } = await openCache(db, { store });
    await cache.store(testEntry('old1', 6, { first: 10 }));
    await cache.store(testEntry('old2', 6, { first: 20 }));
    failures = 1;
    await cache.store(testEntry('new', 6, { first: 30 }));
    expect(cache.stats()).toMatchObject({ memoryOnly: false, persistedEntries: 2 });
    expect(cache.list().map((m) => m.id)).toEqual(['old2', 'new']); // old1 (LRU) made room
    expect(await get(K.index('new'), rawStore(db))).toBeDefined();
    expect(await get(K.entry('old1'), rawStore(db))).toBeUndefined();
    expect(warnings).toEqual([]);
    await cache.close();
  });

  it('falls back to memory only when the quota stays exceeded, without failing the add', async () => {
    const db = freshDbName('quota-full');
    let full = false;
    const store = instrumentedStore(rawStore(db), { failPut: (k) => full && String(k).startsWith('entry:') });
    const { cache, warnings } = await openCache(db, { store });
    await cache.store(testEntry('p1', 6, { first: 10 }));
    full = true;
    const big = testEntry('big', 8, { first: 40 });
    await expect(cache.store(big)).resolves.toBeUndefined();
    expect(cache.memoryOnly).toBe(true);
    expect(cache.stats().memoryOnly).toBe(true);
    expect(warnings.map((w) => w.kind)).toEqual(['quota']);
    expect(warnings[0].message).toMatch(/quota/);
    expectSameEntry(await cache.get('big'), big); // still served from memory
    expect(cache.list().map((m) => m.id)).toContain('big');
    await cache.store(testEntry('later', 6, { first: 70 })); // no further writes are tried
    expect(warnings).toHaveLength(1);
    expect(cache.query(big.tokens, 1)[0].id).toBe('big');
    const persisted = (await keys(rawStore(db))).map(String);
    expect(persisted.some((k) => k.endsWith(':big') || k.endsWith(':later'))).toBe(false);
    await cache.close();
  });

  it('recognises a quota error that is not a DOMException', async () => {
    const db = freshDbName('quota-plain');
    const base = rawStore(db);
    const store: typeof base = (mode, cb) =>
      mode === 'readwrite'
        ? Promise.reject(Object.assign(new Error('full'), { name: 'QuotaExceededError' }))
        : base(mode, cb);
    const { cache, warnings } = await openCache(db, { store });
    await cache.store(testEntry('z'));
    expect(cache.memoryOnly).toBe(true);
    expect(warnings.map((w) => w.kind)).toEqual(['quota']);
    expect(quotaError().name).toBe('QuotaExceededError');
    await cache.close();
  });
});

describe('PersistentEntryCache: integrity', () => {
  it('deletes an entry whose payload fails its checksum and reports it absent', async () => {
    const db = freshDbName('corrupt');
    const first = await openCache(db);
    await first.cache.store(testEntry('bad', 6));
    await first.cache.store(testEntry('good', 6, { first: 50 }));
    await first.cache.close();
    const raw = rawStore(db);
    const payload = (await get(K.entry('bad'), raw)) as Uint8Array;
    payload[payload.length - 20] ^= 0x40;
    await set(K.entry('bad'), payload, raw);

    const { cache, warnings } = await openCache(db);
    expect(cache.list()).toHaveLength(2); // open does not read payloads
    await expect(cache.get('bad')).resolves.toBeUndefined();
    expect(cache.stats().corruptDeleted).toBe(1);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ kind: 'corrupt', id: 'bad' });
    expect(warnings[0].message).toMatch(/checksum/);
    expect(cache.list().map((m) => m.id)).toEqual(['good']);
    expect(await get(K.entry('bad'), raw)).toBeUndefined();
    expect(await get(K.index('bad'), raw)).toBeUndefined();
    expect(await cache.get('good')).toBeDefined();
    await cache.close();
  });

  it('treats a payload that is not binary as corrupt', async () => {
    const db = freshDbName('notbinary');
    const first = await openCache(db);
    await first.cache.store(testEntry('s1'));
    await first.cache.close();
    await set(K.entry('s1'), 'not bytes', rawStore(db));
    const { cache } = await openCache(db);
    expect(await cache.get('s1')).toBeUndefined();
    expect(cache.stats().corruptDeleted).toBe(1);
    await cache.close();
  });

  it('keeps half-written entries invisible: orphan payloads are removed on open', async () => {
    const db = freshDbName('orphan');
    const raw = rawStore(db);
    await set(K.entry('orphan'), encodeEntry(testEntry('orphan')), raw); // crash before the index write
    const { cache, warnings } = await openCache(db);
    expect(cache.list()).toEqual([]);
    expect(await cache.get('orphan')).toBeUndefined();
    expect(await get(K.entry('orphan'), raw)).toBeUndefined();
    expect(warnings).toEqual([]);
    await cache.close();
  });

  it('removes an index record whose payload is missing (on get, and on open)', async () => {
    const db = freshDbName('nopayload');
    const raw = rawStore(db);
    const first = await openCache(db);
    await first.cache.store(testEntry('gone'));
    await first.cache.store(testEntry('gone2', 6, { first: 60 }));
    await first.cache.close();

    const { cache, warnings } = await openCache(db);
    await del(K.entry('gone'), raw); // the payload disappears after open
    expect(await cache.get('gone')).toBeUndefined();
    expect(await get(K.index('gone'), raw)).toBeUndefined();
    expect(cache.list().map((m) => m.id)).toEqual(['gone2']);
    expect(warnings.map((w) => w.kind)).toEqual(['corrupt']);
    await cache.close();

    await del(K.entry('gone2'), raw); // the payload is missing before open
    const again = await openCache(db);
    expect(again.cache.list()).toEqual([]);
    expect(await get(K.index('gone2'), raw)).toBeUndefined();
    expect(again.cache.stats().corruptDeleted).toBe(1);
    await again.cache.close();
  });

  it('ignores entries of other models and other format versions', async () => {
    const db = freshDbName('othermodel');
    const raw = rawStore(db);
    const other = await openCache(db, { model: OTHER_MODEL });
    const foreign = testEntry('shared-id', 6, { model: OTHER_MODEL });
    await other.cache.store(foreign);
    const future = storeKeys(MODEL.fingerprint, 99);
    await set(future.index('future'), { id: 'future' }, raw);
    await set(future.entry('future'), new Uint8Array(8), raw);

    const { cache, warnings } = await openCache(db);
    expect(cache.list()).toEqual([]);
    expect(cache.query(foreign.tokens, 5)).toEqual([]);
    expect(await cache.get('shared-id')).toBeUndefined();
    expect(await cache.get('future')).toBeUndefined();
    expect(warnings).toEqual([]);
    expect(await get(future.index('future'), raw)).toBeDefined(); // left alone
    expect(await other.cache.get('shared-id')).toBeDefined();
    await Promise.all([cache.close(), other.cache.close()]);
  });
});

describe('PersistentEntryCache: K/V dtypes', () => {
  it('an f16 cache reads entries an f32 cache wrote (converted) and writes its own as f16 payloads', async () => {
    const db = freshDbName('dtype');
    const a = testEntry('a32', 9);
    const old = await openCache(db);
    await old.cache.store(a);
    await old.cache.close();

    const F16_MODEL = { ...MODEL, kvDtype: 'f16' as const };
    const { cache, warnings } = await openCache(db, { model: F16_MODEL });
    expect(cache.list().map((m) => m.id)).toEqual(['a32']); // the f32 record parses
    const got = await cache.get('a32');
    expect(got?.dtype).toBe('f16');
    expect(Array.from(got!.k[0])).toEqual(Array.from(f32ArrayToF16(a.k[0] as Float32Array)));
    const b = testEntry('b16', 9, { first: 50 });
    await cache.store(b);
    await cache.close();
    const raw = (await get(K.entry('b16'), rawStore(db))) as Uint8Array;
    const dv = new DataView(raw.buffer, raw.byteOffset);
    expect([dv.getUint32(4, true), dv.getUint32(36, true)]).toEqual([2, 1]); // version 2, f16
    expect(raw.length).toBe(encodeEntry(conformEntry(b, 'f16', undefined)).length);
    expect(encodeEntry(b).length - raw.length).toBe(2 * MODEL.numLayers * 9 * MODEL.kvDim * 2); // K/V halved
    const again = await openCache(db, { model: F16_MODEL });
    const persisted = again.cache.stats().persistedBytes;
    expect(persisted).toBe(encodeEntry(a).length + raw.length);
    expect((await again.cache.get('b16'))?.dtype).toBe('f16');
    expect([...warnings, ...again.warnings]).toEqual([]);
    await again.cache.close();
  });
  it.each([
    [32, 2],
    [8, 0x802],
  ])(
    'a q8 cache in groups of %i writes q8 payloads (dtype code %i, (G + 4) / 4G of the f32 K/V bytes) and reads them back',
    async (G, code) => {
      const db = freshDbName('dtype8');
      const Q8_MODEL = { ...MODEL, kvDim: 32, kvDtype: 'q8' as const, q8Group: G };
      const { cache } = await openCache(db, { model: Q8_MODEL });
      const e = testEntry('c8', 9, { model: Q8_MODEL });
      await cache.store(e);
      await cache.close();
      const raw = (await get(K.entry('c8'), rawStore(db))) as Uint8Array;
      const dv = new DataView(raw.buffer, raw.byteOffset);
      expect([dv.getUint32(4, true), dv.getUint32(36, true)]).toEqual([2, code]); // version 2, q8 in groups of G
      const kvF32 = 2 * MODEL.numLayers * 9 * 32 * 4;
      expect(encodeEntry(e).length - raw.length).toBe(kvF32 - (kvF32 * (G + 4)) / (4 * G));
      const again = await openCache(db, { model: Q8_MODEL });
      expect(again.cache.stats().persistedBytes).toBe(raw.length); // the index record's length parses
      const got = await again.cache.get('c8');
      expect(got?.dtype).toBe('q8');
      expect(got?.q8Group).toBe(G);
      expect(Array.from(got!.v[1])).toEqual(Array.from(quantizeQ8(e.v[1] as Float32Array, G)));
      await again.cache.close();
      // a cache of the other group reads the entry and converts it (from the values it holds)
      const other = G === 32 ? 8 : 32;
      const otherModel = { ...Q8_MODEL, q8Group: other };
      const conv = await openCache(db, { model: otherModel });
      expect(conv.cache.list().map((m) => m.id)).toEqual(['c8']);
      const got2 = await conv.cache.get('c8');
      expect(got2?.q8Group).toBe(other);
      expect(Array.from(got2!.v[1])).toEqual(
        Array.from(quantizeQ8(dequantizeQ8(got!.v[1] as Uint8Array, G), other)),
      );
      expect(conv.warnings).toEqual([]);
      await conv.cache.close();
    },
  );
});

describe('PersistentEntryCache: several tabs', () => {
  it('makes entries written by one instance usable in another after the channel notice', async () => {
    const db = freshDbName('tabs');
    const a = await openCache(db);
    const b = await openCache(db);
    const e = testEntry('from-a', 8, { first: 200 });
    await a.cache.store(e);
    await vi.waitFor(() => expect(b.cache.list().map((m) => m.id)).toEqual(['from-a']));
    expect(b.cache.query(e.tokens, 3)[0]?.id).toBe('from-a');
    expectSameEntry(await b.cache.get('from-a'), e);
    await b.cache.delete('from-a');
    await vi.waitFor(() => expect(a.cache.list()).toEqual([]));
    expect(await a.cache.get('from-a')).toBeUndefined();
    await Promise.all([a.cache.close(), b.cache.close()]);
  });

  it('finds an entry another instance wrote even before its notice arrives', async () => {
    const db = freshDbName('tabs-nochannel');
    const a = await openCache(db, { channelName: '' });
    const b = await openCache(db, { channelName: '' });
    const e = testEntry('quiet', 6);
    await a.cache.store(e);
    expect(b.cache.list()).toEqual([]);
    expectSameEntry(await b.cache.get('quiet'), e);
    expect(b.cache.list().map((m) => m.id)).toEqual(['quiet']);
    await Promise.all([a.cache.close(), b.cache.close()]);
  });

  it('concurrent adds from two instances do not corrupt each other', async () => {
    const db = freshDbName('tabs-concurrent');
    const a = await openCache(db);
    const b = await openCache(db);
    const fromA = Array.from({ length: 8 }, (_, i) => testEntry(`a${i}`, 5 + i, { first: 10 * i }));
    const fromB = Array.from({ length: 8 }, (_, i) => testEntry(`b${i}`, 5 + i, { first: 10 * i + 3 }));
    const sameA = testEntry('same', 6, { seed: 1 });
    const sameB = testEntry('same', 6, { seed: 2 });
    await Promise.all([
      ...fromA.map((e) => a.cache.store(e)),
      ...fromB.map((e) => b.cache.store(e)),
      a.cache.store(sameA),
      b.cache.store(sameB),
    ]);
    await Promise.all([a.cache.flush(), b.cache.flush()]);
    const c = await openCache(db);
    expect(c.cache.list()).toHaveLength(17);
    for (const e of [...fromA, ...fromB]) expectSameEntry(await c.cache.get(e.id), e);
    const same = await c.cache.get('same');
    expect(same).toBeDefined();
    expect([sameA.k[0][0], sameB.k[0][0]]).toContain(same!.k[0][0]);
    expect(c.cache.stats().corruptDeleted).toBe(0);
    await vi.waitFor(() => expect(a.cache.list()).toHaveLength(17));
    await Promise.all([a.cache.close(), b.cache.close(), c.cache.close()]);
  });
});

describe('PersistentEntryCache: IndexedDB unavailable', () => {
  it('works in memory only when there is no indexedDB global', async () => {
    vi.stubGlobal('indexedDB', undefined);
    const { cache, warnings } = await openCache(freshDbName('noidb'));
    expect(cache.memoryOnly).toBe(true);
    expect(warnings.map((w) => w.kind)).toEqual(['unavailable']);
    const e = testEntry('mem', 6);
    await cache.store(e);
    expectSameEntry(await cache.get('mem'), e);
    expect(cache.query(e.tokens, 1)[0].id).toBe('mem');
    expect(cache.list().map((m) => m.id)).toEqual(['mem']);
    expect(cache.stats()).toMatchObject({ entries: 1, persistedEntries: 0, memoryOnly: true });
    expect(await cache.delete('mem')).toBe(true);
    await cache.store(e);
    await cache.clear();
    expect(cache.list()).toEqual([]);
    await cache.close();
  });

  it('drops memory-only entries from its index when the hot tier evicts them', async () => {
    vi.stubGlobal('indexedDB', undefined);
    const one = encodeEntry(testEntry('size', 6)).length;
    const { cache } = await openCache(freshDbName('noidb-evict'), { memoryBudget: 2 * one });
    for (const id of ['m1', 'm2', 'm3'])
      await cache.store(testEntry(id, 6, { first: id.charCodeAt(1) * 10 }));
    expect(cache.list().map((m) => m.id)).toEqual(['m2', 'm3']);
    expect(await cache.get('m1')).toBeUndefined();
  });

  it('goes memory-only when opening fails or is blocked', async () => {
    const failing = await openCache(freshDbName('openfail'), {
      store: () => Promise.reject(new DOMException('denied', 'SecurityError')),
    });
    expect(failing.cache.memoryOnly).toBe(true);
    expect(failing.warnings[0]).toMatchObject({ kind: 'unavailable' });
    await failing.cache.store(testEntry('x'));
    expect(await failing.cache.get('x')).toBeDefined();

    const blocked = await openCache(freshDbName('blocked'), {
      store: () => new Promise<never>(() => {}),
      openTimeoutMs: 30,
    });
    expect(blocked.cache.memoryOnly).toBe(true);
    expect(blocked.warnings[0].message).toMatch(/did not finish/);
  });
});
