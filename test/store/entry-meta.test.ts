import 'fake-indexeddb/auto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { set } from 'idb-keyval';
import { describe, expect, it } from 'vitest';
import { readDocuments } from '../../src/cli/pack-build.ts';
import { CacheEntryError, CachePackError, InvalidArgumentError } from '../../src/errors.ts';
import type { KVEntry } from '../../src/kvshare/entry.ts';
import { MemoryEntryCache } from '../../src/kvshare/entry-cache.ts';
import { MemoryTier } from '../../src/kvshare/memory-tier.ts';
import { checkUserMeta, MAX_META_BYTES } from '../../src/kvshare/user-meta.ts';
import { crc32, decodeEntry, encodedEntryLength, encodeEntry } from '../../src/store/codec.ts';
import { MountedEntryCache } from '../../src/store/mounted-cache.ts';
import { openMountedPack } from '../../src/store/mounted-pack.ts';
import { encodePack, importPack } from '../../src/store/pack.ts';
import { encodeIndexedPack } from '../../src/store/pack-index.ts';
import { storeKeys } from '../../src/store/records.ts';
import { serveFolder } from '../model/serve.ts';
import { freshDbName, MODEL, openCache, rawStore, testEntry } from './helpers.ts';

const META = { title: 'Déjà vu', page: 3, draft: false, source: null };

function withMeta(e: KVEntry, meta: KVEntry['meta']): KVEntry {
  return { ...e, meta };
}

/** An encoded entry whose meta section holds `json` (UTF-8 bytes, or a raw length override), re-sealed. */
function hostile(json: string | Uint8Array, length?: number): Uint8Array {
  const base = encodeEntry(withMeta(testEntry('h', 4), { x: 'y'.repeat(40) }));
  const raw = typeof json === 'string' ? new TextEncoder().encode(json) : json;
  const plain = encodeEntry(testEntry('h', 4));
  const at = plain.length - 4; // where the meta section starts
  const padded = (raw.length + 3) & ~3;
  const out = new Uint8Array(at + 4 + padded + 4);
  out.set(base.subarray(0, at));
  const dv = new DataView(out.buffer);
  dv.setUint32(at, length ?? raw.length, true);
  out.set(raw, at + 4);
  dv.setUint32(out.length - 4, crc32(out, 0, out.length - 4), true);
  return out;
}

const fail = (msg: string): never => {
  throw new RangeError(msg);
};

describe('entry metadata', () => {
  it('accepts flat JSON scalars and refuses anything else', () => {
    expect(checkUserMeta(META, fail)).toEqual(META);
    expect(checkUserMeta({}, fail)).toBeUndefined();
    for (const bad of [
      null,
      'x',
      [1],
      new Map(),
      { nested: { a: 1 } },
      { list: [1] },
      { n: Number.NaN },
      { n: Number.POSITIVE_INFINITY },
      { u: undefined },
      { f: () => 1 },
      { ['k'.repeat(65)]: 1 },
      { '': 1 },
      JSON.parse('{"__proto__": 1}'),
      { big: 'x'.repeat(MAX_META_BYTES) },
      { [Symbol('s')]: 1 },
      Object.fromEntries(Array.from({ length: 100_000 }, (_, i) => [`k${i}`, 0])),
    ])
      expect(() => checkUserMeta(bad, fail), JSON.stringify(bad)).toThrow(RangeError);
    expect(checkUserMeta({ ['k'.repeat(64)]: 'x'.repeat(MAX_META_BYTES - 80) }, fail)).toBeDefined();
  });

  it('round-trips through the entry codec; an entry without meta has no section', () => {
    const e = withMeta(testEntry('m', 6, { exact: true }), META);
    const bytes = encodeEntry(e);
    expect(bytes.length).toBe(encodedEntryLength(e));
    expect(bytes.length % 4).toBe(0);
    const d = decodeEntry(bytes, MODEL);
    expect(d.meta).toEqual(META);
    expect([...d.tokens]).toEqual([...e.tokens]);
    expect(d.exact).toBe(true);
    const plain = encodeEntry(testEntry('m', 6, { exact: true }));
    expect(new DataView(plain.buffer).getUint32(8, true)).toBe(1); // exact only: no meta flag
    expect(decodeEntry(plain, MODEL).meta).toBeUndefined();
    expect(bytes.length).toBeGreaterThan(plain.length);
  });

  it('rejects a hostile meta section with CacheEntryError', () => {
    expect(decodeEntry(hostile('{"a":1}'), MODEL).meta).toEqual({ a: 1 }); // the helper itself is sound
    const cases: [Uint8Array, RegExp][] = [
      [hostile('{"a":1}', 0), /meta section of 0 bytes/],
      [hostile('{"a":1}', MAX_META_BYTES + 1), /meta section of 4097 bytes/],
      [hostile('{"a":1}', 2 ** 32 - 1), /meta section/],
      [hostile('{"a":1}', 9), /length mismatch|truncated/],
      [hostile('{"a":'), /not valid UTF-8 JSON/],
      [hostile(Uint8Array.of(0x7b, 0xff, 0x7d)), /not valid UTF-8 JSON/],
      [hostile('{"a":{"b":1}}'), /meta\.a must be/],
      [hostile('[1,2]'), /plain object/],
      [hostile('{}'), /empty/],
      [hostile('{"__proto__":{"polluted":1}}'), /__proto__/],
    ];
    for (const [bytes, msg] of cases) {
      expect(() => decodeEntry(bytes, MODEL)).toThrow(CacheEntryError);
      expect(() => decodeEntry(bytes, MODEL)).toThrow(msg);
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    // A version 1 payload may not carry the meta flag.
    const v1 = hostile('{"a":1}');
    new DataView(v1.buffer).setUint32(4, 1, true);
    new DataView(v1.buffer).setUint32(v1.length - 4, crc32(v1, 0, v1.length - 4), true);
    expect(() => decodeEntry(v1, MODEL)).toThrow(/unknown flag/);
  });

  it('survives an IndexedDB reload: list() shows it from the index, get() from the payload', async () => {
    const db = freshDbName('meta');
    const first = await openCache(db);
    await first.cache.store(withMeta(testEntry('a', 7), META));
    await first.cache.store(testEntry('b', 5, { first: 100 }));
    await first.cache.close();
    const second = await openCache(db);
    const list = second.cache.list();
    expect(list.find((m) => m.id === 'a')?.meta).toEqual(META);
    expect(list.find((m) => m.id === 'b')).not.toHaveProperty('meta');
    expect((await second.cache.get('a'))?.meta).toEqual(META);
    expect(second.cache.stats()).toMatchObject({ persistedEntries: 2, corruptDeleted: 0 });
    await second.cache.close();
  });

  it('ignores an index record whose meta is hostile, keeping the others', async () => {
    const db = freshDbName('meta-hostile');
    const first = await openCache(db);
    await first.cache.store(withMeta(testEntry('a', 7), META));
    await first.cache.store(withMeta(testEntry('b', 5, { first: 100 }), { k: 1 }));
    await first.cache.close();
    const keys = storeKeys(MODEL.fingerprint);
    const { cache: peek } = await openCache(db);
    const rec = peek.list().find((m) => m.id === 'b')!;
    await peek.close();
    expect(rec.meta).toEqual({ k: 1 });
    const { get } = await import('idb-keyval');
    const stored = (await get(keys.index('b'), rawStore(db))) as Record<string, unknown>;
    await set(keys.index('b'), { ...stored, meta: { k: {} } }, rawStore(db));
    const second = await openCache(db);
    expect(second.cache.list().map((m) => m.id)).toEqual(['a']);
    await second.cache.close();
  });

  it('travels through pack v1 export/import and pack v2 build/mount', async () => {
    const entries = [withMeta(testEntry('p0', 6, { seed: 1 }), META), testEntry('p1', 6, { first: 200 })];
    const memory = () => new MemoryTier({ ...MODEL, budgetBytes: 64 << 20 });
    const v1 = new MemoryEntryCache(memory());
    await importPack(v1, encodePack(entries, MODEL.fingerprint), MODEL);
    expect(v1.list().find((m) => m.id === 'p0')?.meta).toEqual(META);
    expect((await v1.get('p1'))?.meta).toBeUndefined();

    const v2pack = await encodeIndexedPack(entries, MODEL.fingerprint);
    const whole = new MemoryEntryCache(memory());
    await importPack(whole, v2pack, MODEL);
    expect((await whole.get('p0'))?.meta).toEqual(META);

    const dir = await mkdtemp(join(tmpdir(), 'kvshare-meta-'));
    await writeFile(join(dir, 'site.kvpack'), v2pack);
    const server = await serveFolder(dir);
    try {
      const m = memory();
      const cache = new MountedEntryCache(new MemoryEntryCache(m), (t) => m.sketch(t), m.ngram);
      cache.mount(await openMountedPack(`${server.url}site.kvpack`, MODEL));
      expect((await cache.get('p0'))?.meta).toEqual(META);
      expect(cache.list().find((e) => e.id === 'p0')?.meta).toEqual(META);
    } finally {
      await server.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('kvshare pack build reads per-document meta from a jsonl, refusing bad meta with the line', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kvshare-meta-docs-'));
    try {
      const file = join(dir, 'docs.jsonl');
      await writeFile(file, ['{"id":"a","text":"x","meta":{"src":"a.md","n":1}}', '{"text":"y"}'].join('\n'));
      expect(readDocuments(file)).toEqual([
        { id: 'a', text: 'x', meta: { src: 'a.md', n: 1 } },
        { id: 'doc1', text: 'y' },
      ]);
      await writeFile(file, ['{"text":"x"}', '{"text":"y","meta":{"deep":{"a":1}}}'].join('\n'));
      expect(() => readDocuments(file)).toThrow(InvalidArgumentError);
      expect(() => readDocuments(file)).toThrow(/line 2: meta\.deep must be/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('a pack whose entry carries hostile meta is refused with CachePackError, storing nothing', async () => {
    const good = testEntry('g', 4, { first: 300 });
    const bad = withMeta(testEntry('h', 4, { first: 400 }), { x: 'y'.repeat(40) });
    const pack = encodePack([good, bad], MODEL.fingerprint);
    // Rewrite the meta JSON in place ('"x":"yyy…' → '"x":[yy…'), then re-seal the last entry's CRC-32.
    const text = new TextEncoder().encode('"x":"');
    let at = -1;
    for (let i = 0; i < pack.length && at < 0; i++)
      if (text.every((b, j) => pack[i + j] === b)) at = i + text.length - 1;
    expect(at).toBeGreaterThan(0);
    pack[at] = '['.charCodeAt(0);
    const start = pack.length - encodedEntryLength(bad); // the pack ends where its last entry ends
    new DataView(pack.buffer).setUint32(pack.length - 4, crc32(pack, start, pack.length - 4), true);
    const backend = new MemoryEntryCache(new MemoryTier({ ...MODEL, budgetBytes: 64 << 20 }));
    const err = await importPack(backend, pack, MODEL).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CachePackError);
    expect((err as Error).message).toMatch(/entry 1 \("h"\) is invalid: .*not valid UTF-8 JSON/);
    expect(backend.list()).toEqual([]);
  });
});
