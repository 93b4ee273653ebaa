// Entries of a 151,936-token vocabulary (ids past 2^16) through IndexedDB (fake-indexeddb, the
// browser's backend) and KV packs: a reloaded engine and an imported pack still serve the shared
// system prompt of a chat as an exact prefix.
import 'fake-indexeddb/auto';
import { afterAll, describe, expect, it } from 'vitest';
import type { ChatMessage } from '../../src/api/types.ts';
import { indexedDbCacheBackend } from '../../src/browser/cache.ts';
import { Engine } from '../../src/engine/engine.ts';
import { nodeGPU } from '../../src/gpu/node-gpu.ts';
import { nodeShaderLibrary } from '../../src/gpu/shaders-node.ts';
import { chatModelDir } from './models.ts';

const SYSTEM: ChatMessage = {
  role: 'system',
  content: 'You answer questions about train tickets and timetables.',
};
const ask = (content: string): ChatMessage[] => [SYSTEM, { role: 'user', content }];
const IM_START = 151644;
const DB = 'kvshare-chat-qwen-store';
const engines: Engine[] = [];

async function persistentEngine(): Promise<Engine> {
  const engine = new Engine({
    gpu: nodeGPU,
    shaders: nodeShaderLibrary,
    cacheBackend: indexedDbCacheBackend,
  });
  engines.push(engine);
  await engine.load(await chatModelDir('qwen'), { contextLength: 256, persistence: { dbName: DB } });
  return engine;
}

afterAll(async () => {
  for (const e of engines) await e.unload();
});

describe('a 151k-vocabulary chat cache', () => {
  it('round-trips through IndexedDB and a KV pack, and keeps serving the system prompt', async () => {
    const first = await persistentEngine();
    await first.cache.clear();
    const prompt = first.chatPromptIds(ask('Can I change the date of my ticket?'));
    await first.generate({ tokenIds: prompt }, { maxNewTokens: 4, reuse: { mode: 'none' } });
    const [meta] = first.cache.list();
    const original = await first.cache.get(meta.id);
    expect([...(original?.tokens ?? [])].slice(0, prompt.length)).toEqual(prompt);
    expect(original?.tokens).toContain(IM_START);
    await first.unload();

    // A reload (a new engine on the same database) finds the entry and reuses it.
    const second = await persistentEngine();
    expect(second.cache.stats()).toMatchObject({ entries: 1, persistedEntries: 1 });
    const again = await second.cache.get(meta.id);
    expect([...(again?.tokens ?? [])]).toEqual([...(original?.tokens ?? [])]);
    const next = second.chatPromptIds(ask('Are dogs allowed on the train?'));
    const systemPart = second.chatPromptIds([SYSTEM]).length - 2; // without the generation prompt's 'assistant\n'
    const hit = await second.generate({ tokenIds: next }, { maxNewTokens: 2, reuse: { mode: 'prefix' } });
    expect(hit.reuse.entryIds).toEqual([meta.id]);
    expect(hit.reuse.reusedTokens).toBeGreaterThanOrEqual(systemPart);

    // Export, clear, import: the same tokens and K/V come back.
    const pack = await second.cache.exportPack([meta.id]);
    await second.cache.clear();
    expect(second.cache.stats().entries).toBe(0);
    expect((await second.cache.importPack(pack)).ids).toEqual([meta.id]);
    const imported = await second.cache.get(meta.id);
    expect([...(imported?.tokens ?? [])]).toEqual([...(original?.tokens ?? [])]);
    expect(imported?.k[1]).toEqual(original?.k[1]);
    // Imported entries may count as approximate (a pack comes from elsewhere): ask with kvshare, which
    // uses them either way; every token of the shared system part is matched (reused or refreshed).
    const hit2 = await second.generate({ tokenIds: next }, { maxNewTokens: 2, reuse: { mode: 'kvshare' } });
    expect(hit2.reuse.entryIds).toEqual([meta.id]);
    expect(hit2.reuse.fates.slice(0, systemPart).every((f) => f !== 'new')).toBe(true);
    expect(hit2.reuse.reusedTokens).toBeGreaterThan(0);
  });
});
