// Documents built once, served from a static host, fetched by the byte on a hit (issue 25), on
// stories260K: `kvshare pack build` writes a v2 pack of 8 documents; an engine mounts it from a local
// server that logs requests; a question over 3 of the documents fetches only the index and those 3
// entries, reuses them, and answers as mode none would start to.
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Engine } from '../../src/engine/engine.ts';
import { CachePackError } from '../../src/errors.ts';
import { createNodeTokenEngine } from '../../src/node/index.ts';
import { decodeIndex } from '../../src/store/pack-index.ts';
import { storiesDir } from '../helpers/models.ts';
import { serveFolder, type TestServer } from '../model/serve.ts';

const bin = fileURLToPath(new URL('../../bin/kvshare.js', import.meta.url));
const stories = (await readFile(new URL('../../bench/pairs/stories.jsonl', import.meta.url), 'utf8'))
  .split('\n')
  .filter((l) => l.trim())
  .slice(0, 8)
  .map((l) => (JSON.parse(l) as { a: string }).a);

let dir: string;
let server: TestServer;
let engine: Engine;
let built: { entries: number; integrity: string; indexBytes: number; entryBytes: Record<string, number> };
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kvshare-site-'));
  await writeFile(
    join(dir, 'docs.jsonl'),
    stories.map((text, i) => JSON.stringify({ id: `tale${i}`, text, meta: { n: i } })).join('\n'),
  );
  const r = spawnSync(
    process.execPath,
    [
      bin,
      'pack',
      'build',
      '--model',
      storiesDir(),
      '--docs',
      join(dir, 'docs.jsonl'),
      '--out',
      join(dir, 'site.kvpack'),
      '--json',
    ],
    { encoding: 'utf8', timeout: 120_000 },
  );
  expect(r.status, r.stderr).toBe(0);
  built = JSON.parse(r.stdout);
  server = await serveFolder(dir);
  engine = createNodeTokenEngine();
  await engine.load(storiesDir(), { contextLength: 512 });
}, 180_000);
afterAll(async () => {
  await engine?.unload();
  await server?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('a mounted pack of documents', () => {
  it('kvshare pack build writes one entry per document and prints the integrity of the index', async () => {
    expect(built.entries).toBe(8);
    const pack = new Uint8Array(await readFile(join(dir, 'site.kvpack')));
    const info = engine.info!;
    const idx = decodeIndex(pack, { fingerprint: info.fingerprint, numLayers: 0, kvDim: 0 });
    expect(idx.rows.map((r) => r.id)).toEqual(stories.map((_, i) => `tale${i}`));
    expect(built.indexBytes).toBe(idx.indexEnd);
    // `pack build` tokenized each document as a prompt: the same ids the engine gives.
    expect([...idx.rows[3].tokens]).toEqual(engine.tokenize(stories[3]));
  });

  it('a question over 3 documents fetches only the index and those 3 entries, and reuses them', async () => {
    server.requests.length = 0;
    const mounted = await engine.cache.mount(`${server.url}site.kvpack`, { integrity: built.integrity });
    expect(mounted).toMatchObject({ entries: 8, indexBytes: built.indexBytes, ranged: true });
    expect(server.requests).toHaveLength(2);
    const prompt = `${stories[5]} ${stories[1]} ${stories[6]} What happened in the end?`;
    const r = await engine.generate(prompt, {
      maxNewTokens: 8,
      cachePrompt: false,
      reuse: { mode: 'kvshare' },
    });
    expect(new Set(r.reuse.entryIds)).toEqual(new Set(['tale5', 'tale1', 'tale6']));
    expect(r.reuse.reusedTokens).toBeGreaterThan(0.5 * r.reuse.promptTokens);
    expect(server.requests).toHaveLength(5);
    const s = engine.cache.stats();
    const three = built.entryBytes.tale5 + built.entryBytes.tale1 + built.entryBytes.tale6;
    expect(s.mountFetchedBytes).toBe(built.indexBytes + three);
    expect(s.mountFetchedBytes).toBeLessThanOrEqual(1.1 * three + built.indexBytes);
    expect(s).toMatchObject({ mounts: 1, mountedEntries: 5, entries: 3 });
    // Each fetched entry carries its jsonl line's meta.
    const metas = Object.fromEntries(engine.cache.list().map((e) => [e.id, e.meta]));
    expect(metas).toEqual({ tale5: { n: 5 }, tale1: { n: 1 }, tale6: { n: 6 } });
    // Asked again: nothing more is fetched.
    await engine.generate(prompt, { maxNewTokens: 2, cachePrompt: false });
    expect(server.requests).toHaveLength(5);
  });

  it('a wrong integrity or a missing pack is a CachePackError and mounts nothing', async () => {
    const before = engine.cache.stats().mounts;
    await expect(
      engine.cache.mount(`${server.url}site.kvpack`, { integrity: `sha256-${'A'.repeat(43)}=` }),
    ).rejects.toBeInstanceOf(CachePackError);
    await expect(engine.cache.mount(`${server.url}missing.kvpack`)).rejects.toBeInstanceOf(CachePackError);
    expect(engine.cache.stats().mounts).toBe(before);
  });
});
