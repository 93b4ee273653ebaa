// Pack format v2 (index first) and mounting it from a static server: only the index is fetched at
// mount, an entry only when retrieval uses it (one Range request), each checked against its SHA-256;
// a host without Range, tampering, a wrong integrity, a v1 pack: typed errors, nothing stored.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CachePackError } from '../../src/errors.ts';
import { MemoryEntryCache } from '../../src/kvshare/entry-cache.ts';
import { MemoryTier } from '../../src/kvshare/memory-tier.ts';
import { MountedEntryCache } from '../../src/store/mounted-cache.ts';
import { openMountedPack } from '../../src/store/mounted-pack.ts';
import { encodePack, importPack } from '../../src/store/pack.ts';
import { decodeIndex, encodeIndexedPack, integrityOf } from '../../src/store/pack-index.ts';
import { serveFolder, type TestServer } from '../model/serve.ts';
import { MODEL, OTHER_MODEL, testEntry } from './helpers.ts';

const memory = () => new MemoryTier({ ...MODEL, budgetBytes: 64 << 20 });
// Ten entries of 40 tokens with disjoint token ranges (distinct documents).
const entries = Array.from({ length: 10 }, (_, i) =>
  testEntry(`doc${i}`, 40, { first: 1 + 60 * i, seed: i }),
);

let dir: string;
let server: TestServer;
let plain: TestServer;
let pack: Uint8Array;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kvshare-mount-'));
  pack = await encodeIndexedPack(entries, MODEL.fingerprint);
  await writeFile(join(dir, 'site.kvpack'), pack);
  await writeFile(join(dir, 'v1.kvpack'), encodePack(entries, MODEL.fingerprint));
  const bad = pack.slice();
  const idx = decodeIndex(pack, MODEL);
  bad[idx.rows[3].offset + 100] ^= 0xff; // one byte of entry 3's K/V
  await writeFile(join(dir, 'tampered.kvpack'), bad);
  server = await serveFolder(dir);
  plain = await serveFolder(dir, { ignoreRange: true });
});
afterAll(async () => {
  await server.close();
  await plain.close();
  await rm(dir, { recursive: true, force: true });
});

function mountedCache() {
  const m = memory();
  const base = new MemoryEntryCache(m);
  return { base, cache: new MountedEntryCache(base, (t) => m.sketch(t), m.ngram) };
}

describe('pack v2', () => {
  it('round-trips through importPack (whole), every entry checked against its digest', async () => {
    const { base } = mountedCache();
    const r = await importPack(base, pack, MODEL);
    expect(r.ids).toEqual(entries.map((e) => e.id));
    const got = await base.get('doc4');
    expect([...got!.tokens]).toEqual([...entries[4].tokens]);
    expect(got!.exact).toBe(false);
  });

  it('importPack refuses a tampered v2 pack, storing nothing', async () => {
    const { base } = mountedCache();
    const bad = pack.slice();
    bad[bad.length - 10] ^= 1;
    await expect(importPack(base, bad, MODEL)).rejects.toBeInstanceOf(CachePackError);
    expect(base.list()).toEqual([]);
  });
});

describe('mounting a pack', () => {
  it('fetches only the header and index, then exactly the entries retrieval uses, each with one Range request', async () => {
    server.requests.length = 0;
    const { cache } = mountedCache();
    const p = await openMountedPack(`${server.url}site.kvpack`, MODEL);
    const idx = p.index;
    expect(server.requests.map((r) => r.range)).toEqual(['bytes=0-87', `bytes=88-${idx.indexEnd - 1}`]);
    expect(p.fetchedBytes()).toBe(idx.indexEnd);
    expect(cache.mount(p)).toBe(10);
    expect(cache.list()).toEqual([]);
    // A prompt quoting doc2 and doc7: the query finds them from the index; get() fetches them.
    const prompt = [...entries[7].tokens, ...entries[2].tokens];
    const top = cache.query(prompt, 2).map((m) => m.id);
    expect(top.sort()).toEqual(['doc2', 'doc7']);
    for (const id of top) {
      const e = await cache.get(id);
      expect(e?.id).toBe(id);
    }
    const rows = idx.rows.filter((r) => top.includes(r.id));
    expect(
      server.requests
        .slice(2)
        .map((r) => r.range)
        .sort(),
    ).toEqual(rows.map((r) => `bytes=${r.offset}-${r.offset + r.length - 1}`).sort());
    expect(p.fetchedBytes()).toBe(idx.indexEnd + rows[0].length + rows[1].length);
    // Now cached: a second get fetches nothing.
    await cache.get('doc2');
    expect(server.requests).toHaveLength(4);
    expect(
      cache
        .list()
        .map((e) => e.id)
        .sort(),
    ).toEqual(['doc2', 'doc7']);
    expect(cache.mountStats()).toMatchObject({ mounts: 1, mountedEntries: 8, mountRequests: 4 });
    // Clear empties the cache; the pack stays mounted and its entries are fetched again on use.
    await cache.clear();
    expect(cache.mountStats()).toMatchObject({ mounts: 1, mountedEntries: 10 });
    expect((await cache.get('doc2'))?.id).toBe('doc2');
    expect(server.requests).toHaveLength(5);
  });

  it('integrity pins the index: a matching digest mounts, another is a CachePackError', async () => {
    const idx = decodeIndex(pack, MODEL);
    const good = await integrityOf(pack.subarray(0, idx.indexEnd));
    await expect(
      openMountedPack(`${server.url}site.kvpack`, MODEL, { integrity: good }),
    ).resolves.toBeTruthy();
    const wrong = await integrityOf(new Uint8Array([1, 2, 3]));
    await expect(openMountedPack(`${server.url}site.kvpack`, MODEL, { integrity: wrong })).rejects.toThrow(
      /integrity/,
    );
    await expect(
      openMountedPack(`${server.url}site.kvpack`, MODEL, { integrity: 'md5-x' }),
    ).rejects.toBeInstanceOf(CachePackError);
  });

  it('a pinned pack keeps its entries exact; an unpinned one makes them approximate', async () => {
    const exact = [testEntry('e0', 30, { exact: true, first: 5 })];
    const bytes = await encodeIndexedPack(exact, MODEL.fingerprint);
    await writeFile(join(dir, 'exact.kvpack'), bytes);
    const integrity = await integrityOf(bytes.subarray(0, decodeIndex(bytes, MODEL).indexEnd));
    const pinned = await openMountedPack(`${server.url}exact.kvpack`, MODEL, { integrity });
    expect((await pinned.entry(pinned.index.rows[0])).exact).toBe(true);
    const loose = await openMountedPack(`${server.url}exact.kvpack`, MODEL);
    expect((await loose.entry(loose.index.rows[0])).exact).toBe(false);
  });

  it('an entry whose bytes do not match the index digest is refused and not stored', async () => {
    const { cache, base } = mountedCache();
    cache.mount(await openMountedPack(`${server.url}tampered.kvpack`, MODEL));
    await expect(cache.get('doc3')).rejects.toThrow(/SHA-256/);
    expect(base.list()).toEqual([]);
    expect((await cache.get('doc1'))?.id).toBe('doc1');
  });

  it('a host that ignores Range: one whole download within maxWholeBytes, else a CachePackError saying so', async () => {
    plain.requests.length = 0;
    const p = await openMountedPack(`${plain.url}site.kvpack`, MODEL);
    expect(p.ranged).toBe(false);
    const { cache } = mountedCache();
    cache.mount(p);
    expect((await cache.get('doc5'))?.id).toBe('doc5');
    expect(plain.requests).toHaveLength(1);
    await expect(openMountedPack(`${plain.url}site.kvpack`, MODEL, { maxWholeBytes: 1000 })).rejects.toThrow(
      /ignores Range/,
    );
  });

  it('a v1 pack, another model, a missing file: typed errors', async () => {
    await expect(openMountedPack(`${server.url}v1.kvpack`, MODEL)).rejects.toThrow(/version 1/);
    await expect(openMountedPack(`${server.url}site.kvpack`, OTHER_MODEL)).rejects.toThrow(/another model/);
    await expect(openMountedPack(`${server.url}none.kvpack`, MODEL)).rejects.toBeInstanceOf(CachePackError);
  });
});
