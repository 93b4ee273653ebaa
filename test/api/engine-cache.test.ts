// The engine's persistent cache and KV packs through the worker boundary (EngineHost on one end of a
// MessageChannel, the client on the other), with IndexedDB from fake-indexeddb and the real model.
import 'fake-indexeddb/auto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import type { ChatMessage, EngineWarning, LoadOptions } from '../../src/api/types.ts';
import { indexedDbCacheBackend } from '../../src/browser/cache.ts';
import { type EngineClient, wrapEngine } from '../../src/client/remote.ts';
import { createChatApi } from '../../src/engine/chat.ts';
import { Engine } from '../../src/engine/engine.ts';
import { CachePackError } from '../../src/errors.ts';
import { nodeGPU } from '../../src/gpu/node-gpu.ts';
import { nodeShaderLibrary } from '../../src/gpu/shaders-node.ts';
import { PACK_MAGIC } from '../../src/store/pack.ts';
import { q8Bytes, q8GroupFor } from '../../src/util/kv-q8.ts';
import { exposeEngine } from '../../src/worker/host.ts';
import { storiesDir } from '../helpers/models.ts';
import { serveFolder } from '../model/serve.ts';

const channels: MessageChannel[] = [];
const clients: EngineClient[] = [];

/** An engine with the browser's IndexedDB backend, served over a MessageChannel. */
async function persistentClient(dbName: string, extra: LoadOptions = {}): Promise<EngineClient> {
  const ch = new MessageChannel();
  channels.push(ch);
  const engine = new Engine({
    gpu: nodeGPU,
    shaders: nodeShaderLibrary,
    cacheBackend: indexedDbCacheBackend,
  });
  exposeEngine(createChatApi(engine), ch.port1);
  const client = wrapEngine(ch.port2);
  clients.push(client);
  await client.load(storiesDir(), { contextLength: 256, persistence: { dbName }, ...extra });
  return client;
}

const user = (content: string): ChatMessage[] => [{ role: 'user', content }];
const A = user('Once upon a time, Lily found a red ball in the park.');
const B = user('Once upon a time, Tom found a blue ball in the park.');
const C = user('Once upon a time, Sam found a green ball in the park.');

afterEach(() => vi.unstubAllGlobals());
afterAll(async () => {
  for (const c of clients) {
    await c.unload().catch(() => undefined);
    c.terminate();
  }
  for (const ch of channels) {
    ch.port1.close();
    ch.port2.close();
  }
});

describe('persistent KV cache behind the engine', () => {
  it('writes entries to IndexedDB; a new engine on the same database reuses them', async () => {
    const first = await persistentClient('engine-cache-persist');
    const a = await first.chat.completions.create({ messages: A, max_tokens: 6 });
    expect(a.usage.reused_tokens).toBe(0);
    const s1 = await first.cache.stats();
    expect(s1).toMatchObject({ entries: 1, persistent: true, persistedEntries: 1, misses: 1, hits: 0 });
    expect(s1.persistedBytes).toBeGreaterThan(0);
    await first.unload();

    const second = await persistentClient('engine-cache-persist');
    expect(await second.cache.stats()).toMatchObject({ entries: 1, persistedEntries: 1, hits: 0 });
    const b = await second.chat.completions.create({ messages: B, max_tokens: 6 });
    expect(b.usage.reused_tokens).toBeGreaterThan(0);
    expect(b.usage.entry_ids).toEqual([(await second.cache.list())[0].id]);
    expect(await second.cache.stats()).toMatchObject({
      entries: 2,
      hits: 1,
      reusedTokens: b.usage.reused_tokens,
    });
  });

  it('reports IndexedDB being unavailable as a warning across the boundary, and works in memory', async () => {
    vi.stubGlobal('indexedDB', undefined);
    const warnings: EngineWarning[] = [];
    const client = await persistentClient('engine-cache-noidb', { onWarning: (w) => warnings.push(w) });
    await vi.waitFor(() => expect(warnings.map((w) => w.kind)).toEqual(['unavailable']));
    expect(warnings[0].message).toMatch(/memory only/);
    await client.chat.completions.create({ messages: A, max_tokens: 4 });
    const r = await client.chat.completions.create({ messages: B, max_tokens: 4 });
    expect(r.usage.reused_tokens).toBeGreaterThan(0);
    expect(await client.cache.stats()).toMatchObject({ entries: 2, persistent: false, persistedEntries: 0 });
  });

  it('f16 K/V (the default) take half the bytes of f32 in every tier, q8 3/8 (stories260K: groups of 8); f32 and q8 engines read the f16 entries', async () => {
    const half = await persistentClient('engine-cache-dtype');
    expect((await half.cache.stats()).kvDtype).toBe('f16');
    await half.chat.completions.create({ messages: A, max_tokens: 4 });
    const s16 = await half.cache.stats();
    await half.unload();
    const full = await persistentClient('engine-cache-dtype-32', { kvDtype: 'f32' });
    await full.chat.completions.create({ messages: A, max_tokens: 4 });
    const s32 = await full.cache.stats();
    await full.unload();
    expect(s16).toMatchObject({ kvDtype: 'f16', entries: 1, gpuEntries: 1, persistedEntries: 1 });
    expect(s32).toMatchObject({ kvDtype: 'f32', entries: 1, gpuEntries: 1, persistedEntries: 1 });
    expect(s16.kvBytesPerToken / s32.kvBytesPerToken).toBe(0.5);
    expect(s16.gpuLiveBytes / s32.gpuLiveBytes).toBe(0.5);
    expect(s16.gpuBytes / s32.gpuBytes).toBe(0.5); // the hot tier holds K/V only
    // memory and IndexedDB also hold tokens, positions and the sketch: a bit over half
    for (const k of ['bytes', 'persistedBytes'] as const) {
      expect(s16[k] / s32[k]).toBeGreaterThan(0.5);
      expect(s16[k] / s32[k]).toBeLessThan(0.6);
    }
    // An f32 engine on the f16 engine's database widens its entries and reuses them.
    const reader = await persistentClient('engine-cache-dtype', { kvDtype: 'f32' });
    const r = await reader.chat.completions.create({ messages: B, max_tokens: 4 });
    expect(r.usage.reused_tokens).toBeGreaterThan(0);
    expect(await reader.cache.stats()).toMatchObject({ kvDtype: 'f32', hits: 1 });
    await reader.unload();

    // q8: stories260K's heads of 8 take groups of 8 (q8GroupFor), 12 bytes per 8 values (3/8 of f32),
    // on the GPU and in the hot tier.
    const q8Share = q8Bytes(8, q8GroupFor(8) ?? 0) / (8 * 4);
    expect(q8Share).toBe(3 / 8);
    const quarter = await persistentClient('engine-cache-dtype-q8', { kvDtype: 'q8' });
    await quarter.chat.completions.create({ messages: A, max_tokens: 4 });
    const s8 = await quarter.cache.stats();
    await quarter.unload();
    expect(s8).toMatchObject({ kvDtype: 'q8', entries: 1, gpuEntries: 1, persistedEntries: 1 });
    expect(s8.kvBytesPerToken / s32.kvBytesPerToken).toBe(q8Share);
    expect(s8.gpuLiveBytes / s32.gpuLiveBytes).toBe(q8Share);
    expect(s8.gpuBytes / s32.gpuBytes).toBe(q8Share);
    for (const k of ['bytes', 'persistedBytes'] as const) {
      expect(s8[k] / s32[k]).toBeGreaterThan(q8Share);
      expect(s8[k] / s32[k]).toBeLessThan(0.5);
    }
    // A q8 engine on the f16 engine's database quantizes its entries and reuses them.
    const q8Reader = await persistentClient('engine-cache-dtype', { kvDtype: 'q8' });
    const r8 = await q8Reader.chat.completions.create({ messages: B, max_tokens: 4 });
    expect(r8.usage.reused_tokens).toBeGreaterThan(0);
    expect(await q8Reader.cache.stats()).toMatchObject({ kvDtype: 'q8', hits: 1 });
  });

  it('token pieces of a prompt read as the prompt', async () => {
    const client = await persistentClient('engine-cache-pieces');
    const r = await client.chat.completions.create({ messages: C, max_tokens: 2 });
    const pieces = await client.tokenPieces(r.usage.prompt_token_ids);
    expect(pieces).toHaveLength(r.usage.prompt_tokens);
    expect(pieces[0]).toBe('<s>');
    expect(pieces.slice(1).join('').trim()).toBe(C[0].content);
  });
});

describe('KV packs through the client', () => {
  it('export (transferred), clear, import from bytes, a Blob and a URL; malformed packs store nothing', async () => {
    const client = await persistentClient('engine-cache-packs');
    await client.chat.completions.create({ messages: A, max_tokens: 4 });
    await client.chat.completions.create({ messages: C, max_tokens: 4 });
    const ids = (await client.cache.list()).map((m) => m.id).sort();
    const pack = await client.cache.exportPack();
    expect(new TextDecoder().decode(pack.subarray(0, 8))).toBe(PACK_MAGIC);
    const keep = pack.slice();

    await client.cache.clear();
    expect(await client.cache.stats()).toMatchObject({ entries: 0, persistedEntries: 0 });
    const bad = keep.slice();
    bad[bad.length - 1] ^= 0xff; // the last entry's checksum no longer matches
    await expect(client.cache.importPack(bad)).rejects.toBeInstanceOf(CachePackError);
    await expect(client.cache.importPack(keep.slice(0, 100))).rejects.toBeInstanceOf(CachePackError);
    expect((await client.cache.stats()).entries).toBe(0);

    const bytes = keep.slice();
    expect((await client.cache.importPack(bytes)).ids.sort()).toEqual(ids);
    expect(bytes.byteLength).toBe(0); // moved to the worker, not copied
    const hit = await client.chat.completions.create({ messages: B, max_tokens: 4 });
    expect(ids).toEqual(expect.arrayContaining(hit.usage.entry_ids));
    expect(hit.usage.reused_tokens).toBeGreaterThan(0);

    await client.cache.clear();
    expect((await client.cache.importPack(new Blob([keep]))).ids.sort()).toEqual(ids);

    const dir = await mkdtemp(join(tmpdir(), 'kvshare-pack-'));
    const server = await serveFolder(dir);
    try {
      await writeFile(join(dir, 'faq.kvpack'), keep);
      await client.cache.clear();
      expect((await client.cache.importPack(`${server.url}faq.kvpack`)).ids.sort()).toEqual(ids);
      const missing = await client.cache.importPack(`${server.url}absent.kvpack`).catch((e: unknown) => e);
      expect(missing).toBeInstanceOf(CachePackError);
      expect((missing as Error).message).toMatch(/HTTP 404/);
    } finally {
      await server.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
