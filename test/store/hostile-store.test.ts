// Issue 8 regressions in src/store: pack import never loses the user's entries (finding 1), index
// records cannot inflate stats() (finding 8), entries of a longer context are not served (finding 3).
import 'fake-indexeddb/auto';
import { set } from 'idb-keyval';
import { describe, expect, it } from 'vitest';
import { CachePackError } from '../../src/errors.ts';
import type { KVEntry } from '../../src/kvshare/entry.ts';
import type { EntryCache } from '../../src/kvshare/entry-cache.ts';
import { MemoryEntryCache } from '../../src/kvshare/entry-cache.ts';
import { MemoryTier } from '../../src/kvshare/memory-tier.ts';
import { PersistentEntryCache } from '../../src/store/idb-store.ts';
import { encodePack, importPack } from '../../src/store/pack.ts';
import { storeKeys } from '../../src/store/records.ts';
import { expectSameEntry, freshDbName, MODEL, openCache, rawStore, testEntry } from './helpers.ts';

const FULL = { ...MODEL, numHashes: 64, contextLength: 64 };
const memoryBackend = () =>
  new MemoryEntryCache(new MemoryTier({ ...MODEL, contextLength: 64, budgetBytes: 64 << 20 }));

/** A pack whose first entry reuses `id` (other content) and whose last has a 63-hash sketch. */
function collidingPack(id: string): Uint8Array {
  const twin = testEntry(id, 7, { first: 500, seed: 99 });
  const bad = testEntry('short-sketch', 4, { first: 20 });
  bad.sketch = bad.sketch.slice(0, 63);
  return encodePack([twin, testEntry('fresh', 5, { first: 40 }), bad], MODEL.fingerprint);
}

async function expectUnchanged(backend: EntryCache, user: KVEntry): Promise<void> {
  expect(backend.list().map((m) => m.id)).toEqual([user.id]);
  expectSameEntry(await backend.get(user.id), user);
}

describe('pack import is atomic and never overwrites (finding 1)', () => {
  for (const [name, expect_] of [
    ['checked before writing', FULL],
    ['caught at add and rolled back', MODEL],
  ] as const) {
    it(`memory backend, sketch ${name}`, async () => {
      const b = memoryBackend();
      const user = testEntry('mine', 6, { exact: true });
      await b.store(user);
      const err = await importPack(b, collidingPack('mine'), expect_).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(CachePackError);
      expect((err as Error).message).toMatch(/sketch has 63 hashes, this cache uses 64/);
      await expectUnchanged(b, user);
    });
  }

  it('persistent backend: the user entry survives a failed import, also after a reload', async () => {
    const db = freshDbName('collide');
    const a = await openCache(db);
    const user = testEntry('mine', 6, { exact: true });
    await a.cache.store(user);
    await expect(importPack(a.cache, collidingPack('mine'), MODEL)).rejects.toBeInstanceOf(CachePackError);
    await expectUnchanged(a.cache, user);
    await a.cache.close();
    const reopened = await openCache(db);
    await expectUnchanged(reopened.cache, user);
    await reopened.cache.close();
  });

  it('an id the cache holds is skipped, named in the result, and left as it was', async () => {
    const b = memoryBackend();
    const user = testEntry('mine', 6, { exact: true });
    await b.store(user);
    const pack = encodePack(
      [testEntry('mine', 7, { first: 500, seed: 3 }), testEntry('new', 4)],
      MODEL.fingerprint,
    );
    const r = await importPack(b, pack, FULL);
    expect(r).toEqual({ ids: ['new'], skipped: ['mine'] });
    expectSameEntry(await b.get('mine'), user);
  });

  it('refuses entries from a longer context before writing anything', async () => {
    const b = memoryBackend();
    const far = testEntry('far', 4);
    far.positions = Int32Array.from([100, 101, 102, 103]);
    const pack = encodePack([testEntry('ok', 4), far], MODEL.fingerprint);
    await expect(importPack(b, pack, FULL)).rejects.toThrow(
      /position 100 at row 0 is past the context of 64/,
    );
    expect(b.list()).toEqual([]);
  });
});

describe('IndexedDB records are checked (findings 3 and 8)', () => {
  it('an index record claiming 1e9 tokens is dropped on open, not believed by stats()', async () => {
    const db = freshDbName('huge-index');
    const a = await openCache(db);
    const e = testEntry('real', 5);
    await a.cache.store(e);
    await a.cache.close();
    const keys = storeKeys(MODEL.fingerprint);
    const sketch = e.sketch.slice();
    const lie = {
      id: 'lie',
      sketch,
      numTokens: 1e9,
      bytes: 1e9 * 4,
      exact: true,
      createdAt: 1,
      lastUsed: 1,
      checksum: 0,
    };
    await set(keys.index('lie'), lie, rawStore(db));
    await set(keys.entry('lie'), new Uint8Array(16), rawStore(db));
    const b = await openCache(db);
    expect(b.cache.list().map((m) => m.id)).toEqual(['real']);
    expect(b.cache.stats().persistedBytes).toBeLessThan(10_000);
    expect(b.cache.stats().corruptDeleted).toBe(1);
    await b.cache.close();
  });

  it('an entry stored at a longer context is kept in IndexedDB but not served to a shorter runner', async () => {
    const db = freshDbName('long-ctx');
    const long = await openCache(db);
    const e = testEntry('long', 4);
    e.positions = Int32Array.from([200, 201, 202, 203]);
    await long.cache.store(e);
    await long.cache.close();
    const memory = new MemoryTier({ ...MODEL, contextLength: 64, budgetBytes: 64 << 20 });
    const short = await PersistentEntryCache.open({
      ...memory.expect,
      memory,
      budgetBytes: 64 << 20,
      dbName: db,
      estimate: null,
    });
    expect(await short.get('long')).toBeUndefined();
    expect(short.stats().corruptDeleted).toBe(0);
    await short.close();
    const again = await openCache(db);
    expect(await again.cache.get('long')).toBeDefined();
    await again.cache.close();
  });
});
