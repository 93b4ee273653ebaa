// Issue 4 in a real browser: the engine in a module Web Worker on WebGPU (SwiftShader), driven through
// the public client API (src/client) by the page e2e/pages/main.ts.
import { expect, test } from '@playwright/test';
import type { ChatMessage } from '../src/api/types.ts';
import { type BrowserSession, launchBrowser } from './harness.ts';
import type { ChatRequest } from './pages/e2e-api.ts';
import { PAGES_ORIGIN } from './servers.ts';

const user = (content: string): ChatMessage[] => [{ role: 'user', content }];

test.describe.configure({ mode: 'serial' });

let browser: BrowserSession;

test.beforeAll(async () => {
  browser = await launchBrowser();
  await browser.page.goto(`${PAGES_ORIGIN}/`);
  await browser.page.waitForFunction(() => 'kvshareE2E' in window, null, { timeout: 120_000 });
});

test.afterAll(async () => {
  await browser?.close();
});

test.describe('the worker engine in headless chromium', () => {
  test('loads stories260K by URL in a module worker on WebGPU, with progress', async () => {
    const url = `${PAGES_ORIGIN}/models/stories260K-hf`;
    const r = await browser.page.evaluate(([u]) => window.kvshareE2E.load(u, 256), [url] as const);
    expect(r.info.location).toBe(url);
    expect(r.info.contextLength).toBe(256);
    expect(r.info.fingerprint).toMatch(/^[0-9a-f]{64}$/);
    expect(r.info.adapter.length).toBeGreaterThan(0);
    expect(r.progressEvents).toBeGreaterThan(3);
    expect(r.lastKind).toBe('ready');
    expect(r.monotonic).toBe(true);
    console.info(`adapter in the worker: ${r.info.adapter}; page thread has navigator.gpu: ${r.pageHasGpu}`);
  });

  test('streams an answer: chunks arrive, and their concatenation is the answer', async () => {
    const req: ChatRequest = {
      messages: user('Lily went to the park'),
      max_tokens: 24,
      reuse: { mode: 'none' },
    };
    const s = await browser.page.evaluate((q) => window.kvshareE2E.stream(q), req);
    const whole = await browser.page.evaluate((q) => window.kvshareE2E.complete(q), req);
    expect(s.chunks).toBeGreaterThan(2);
    expect(s.firstRole).toBe('assistant');
    expect(s.wellFormed).toBe(true);
    expect(s.content.length).toBeGreaterThan(0);
    expect(s.content).toBe(whole.choices[0].message.content);
    expect(s.finishReason).toBe(whole.choices[0].finish_reason);
    expect(s.usage?.completion_tokens).toBe(whole.usage.completion_tokens);
    expect(s.usage?.token_fates).toHaveLength(s.usage?.prompt_tokens ?? -1);
  });

  test('an AbortSignal stops a stream mid-way; the next request completes', async () => {
    const long: ChatRequest = { messages: user('Once upon a time'), max_tokens: 200 };
    const s = await browser.page.evaluate(([q, n]) => window.kvshareE2E.streamAndAbort(q, n), [
      long,
      3,
    ] as const);
    expect(s.finishReason).toBe('abort');
    expect(s.wellFormed).toBe(true);
    expect(s.chunks).toBeLessThan(12);
    expect(s.usage?.completion_tokens).toBeLessThan(200);
    const next = await browser.page.evaluate((q) => window.kvshareE2E.complete(q), {
      messages: user('Tom had a dog'),
      max_tokens: 8,
    } satisfies ChatRequest);
    expect(next.choices[0].finish_reason).toBe('length');
    expect(next.usage.completion_tokens).toBe(8);
  });

  test('a similar prompt reuses cached KV', async () => {
    const a: ChatRequest = {
      messages: user('Once upon a time, Lily found a red ball in the park.'),
      max_tokens: 8,
    };
    const b: ChatRequest = {
      messages: user('Once upon a time, Tom found a blue ball in the park.'),
      max_tokens: 8,
    };
    await browser.page.evaluate((q) => window.kvshareE2E.complete(q), a);
    const r = await browser.page.evaluate((q) => window.kvshareE2E.complete(q), b);
    expect(r.usage.reused_tokens).toBeGreaterThan(0);
    // The shared prefix is still live from `a` (in place); the rest comes from a's entry unless the
    // engine found computing it cheaper (a short prompt).
    if (r.usage.prefill_path !== 'prefix') expect(r.usage.entry_ids.length).toBeGreaterThan(0);
    expect(r.usage.token_fates.filter((f) => f === 'reused').length).toBe(r.usage.reused_tokens);
    expect(await browser.page.evaluate(() => window.kvshareE2E.cacheEntries())).toBeGreaterThanOrEqual(2);
    // The reuse map's pieces: one per prompt token, reading as the prompt.
    const pieces = await browser.page.evaluate(
      (ids) => window.kvshareE2E.tokenPieces(ids),
      r.usage.prompt_token_ids,
    );
    expect(pieces).toHaveLength(r.usage.prompt_tokens);
    expect(pieces.join('')).toContain('Tom found a blue ball in the park.');
  });

  test('entries persist in IndexedDB: after a page reload a similar prompt reuses them', async () => {
    const before = await browser.page.evaluate(() => window.kvshareE2E.cacheStats());
    expect(before.persistent).toBe(true);
    expect(before.persistedEntries).toBe(before.entries);
    await browser.page.reload();
    await browser.page.waitForFunction(() => 'kvshareE2E' in window, null, { timeout: 120_000 });
    // A path relative to the page: resolved against the page, not against the worker script.
    const reloaded = await browser.page.evaluate(([u]) => window.kvshareE2E.load(u, 256), [
      '/models/stories260K-hf',
    ] as const);
    expect(reloaded.info.location).toBe(`${PAGES_ORIGIN}/models/stories260K-hf`);
    const after = await browser.page.evaluate(() => window.kvshareE2E.cacheStats());
    expect(after.entries).toBe(before.entries);
    expect(after.hits).toBe(0); // a new engine: nothing served from memory yet
    const r = await browser.page.evaluate((q) => window.kvshareE2E.complete(q), {
      messages: user('Once upon a time, Sam found a green ball in the park.'),
      max_tokens: 8,
    } satisfies ChatRequest);
    expect(r.usage.reused_tokens).toBeGreaterThan(0);
    const stats = await browser.page.evaluate(() => window.kvshareE2E.cacheStats());
    expect(stats.hits).toBe(1);
    expect(stats.reusedTokens).toBe(r.usage.reused_tokens);
    expect(await browser.page.evaluate(() => window.kvshareE2E.warnings())).toEqual([]);
  });

  test('a KV pack exported, the cache cleared, the pack imported: the hits come back', async () => {
    const entries = (await browser.page.evaluate(() => window.kvshareE2E.cacheStats())).entries;
    const bytes = await browser.page.evaluate(() => window.kvshareE2E.exportPack());
    expect(bytes).toBeGreaterThan(1000);
    await browser.page.evaluate(() => window.kvshareE2E.clearCache());
    const cleared = await browser.page.evaluate(() => window.kvshareE2E.cacheStats());
    expect(cleared.entries).toBe(0);
    expect(cleared.persistedEntries).toBe(0);
    const bad = await browser.page.evaluate(() => window.kvshareE2E.importCorruptPack());
    expect(bad).toMatchObject({
      instanceOfExpected: true,
      name: 'CachePackError',
      code: 'CACHE_PACK_INVALID',
    });
    expect((await browser.page.evaluate(() => window.kvshareE2E.cacheStats())).entries).toBe(0);
    const ids = await browser.page.evaluate(() => window.kvshareE2E.importPack());
    expect(ids).toHaveLength(entries);
    const r = await browser.page.evaluate((q) => window.kvshareE2E.complete(q), {
      messages: user('Once upon a time, Ann found a red ball in the park.'),
      max_tokens: 8,
    } satisfies ChatRequest);
    expect(r.usage.reused_tokens).toBeGreaterThan(0);
    expect(ids).toEqual(expect.arrayContaining(r.usage.entry_ids));
  });

  test('errors thrown in the worker arrive on the page with their class', async () => {
    const empty = await browser.page.evaluate(() => window.kvshareE2E.emptyChatError());
    expect(empty).toMatchObject({
      instanceOfExpected: true,
      instanceOfKVShareError: true,
      name: 'EmptyPromptError',
      code: 'EMPTY_PROMPT',
    });
    expect(empty.message).toMatch(/empty/i);
    const idle = await browser.page.evaluate((m) => window.kvshareE2E.notLoadedError(m), user('Hi'));
    expect(idle).toMatchObject({
      instanceOfExpected: true,
      instanceOfKVShareError: true,
      name: 'EngineNotLoadedError',
      code: 'ENGINE_NOT_LOADED',
    });
  });

  test('two tabs share the IndexedDB cache: an entry written in one is reused in the other', async () => {
    const other = await browser.context.newPage();
    try {
      other.on('pageerror', (e) => browser.errors.push(`second tab: ${e.message}`));
      await other.goto(`${PAGES_ORIGIN}/`);
      await other.waitForFunction(() => 'kvshareE2E' in window, null, { timeout: 120_000 });
      await other.evaluate(([u]) => window.kvshareE2E.load(u, 256), ['/models/stories260K-hf'] as const);
      const known = new Set((await other.evaluate(() => window.kvshareE2E.cacheList())).map((m) => m.id));
      // Written by the first tab after the second one loaded: it learns of it by BroadcastChannel.
      const a = user('Once upon a time, a little bird sang a happy song in the tall tree.');
      await browser.page.evaluate((q) => window.kvshareE2E.complete(q), { messages: a, max_tokens: 4 });
      const fresh = (await browser.page.evaluate(() => window.kvshareE2E.cacheList())).filter(
        (m) => !known.has(m.id),
      );
      expect(fresh).toHaveLength(1);
      const r = await other.evaluate((q) => window.kvshareE2E.complete(q), {
        messages: user('Once upon a time, a little cat sang a happy song in the tall tree.'),
        max_tokens: 4,
      } satisfies ChatRequest);
      expect(r.usage.entry_ids).toContain(fresh[0].id);
      expect(r.usage.reused_tokens).toBeGreaterThan(0);
    } finally {
      await other.close();
    }
  });

  test('unload() through the client frees the engine', async () => {
    const r = await browser.page.evaluate(() => window.kvshareE2E.unload());
    expect(r.infoAfter).toBeNull();
    expect(r.chatAfter).toMatchObject({ instanceOfExpected: true, code: 'ENGINE_NOT_LOADED' });
  });

  test('logged no console errors in the page or its workers', () => {
    expect(browser.errors).toEqual([]);
  });
});
