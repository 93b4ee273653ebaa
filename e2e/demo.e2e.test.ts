// The chat demo (demo/, `npm start`) in headless chromium, driven through its UI: load with progress,
// greedy answers equal to the Node engine's, reuse badge and map, the cache kept across a reload and a
// browser restart, Stop, pack export/clear/import, the no-WebGPU screen, and a clean console.
import { cp, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, test } from '@playwright/test';
import { createNodeEngine } from '../src/node/index.ts';
import { writeStoriesGguf } from '../test/helpers/gguf-writer-models.ts';
import { storiesDir } from '../test/helpers/models.ts';
import { DemoDriver } from './demo-driver.ts';
import { type BrowserSession, launchBrowser, type PageServer, startPageServer } from './harness.ts';

const projectRoot = fileURLToPath(new URL('..', import.meta.url));
const SHOTS = resolve(projectRoot, 'test-results/screenshots');
const STORIES = storiesDir();
const VIEWPORT = { width: 1280, height: 800 };

const LILY = 'Once upon a time, Lily found a red ball in the park.';
const TOM = 'Once upon a time, Tom found a blue ball in the park.';
const SAM = 'Once upon a time, Sam found a green ball in the park.';
const ANN = 'Once upon a time, Ann found a red ball in the park.';

test.describe.configure({ mode: 'serial' });

let assets: string;
let server: PageServer;
let profileDir: string;
let browser: BrowserSession;
let demo: DemoDriver;
/** Console errors of browser sessions already closed (the last check reads them with the open one's). */
const closedErrors: string[] = [];

async function openBrowser(opts: { webgpu?: boolean } = {}): Promise<BrowserSession> {
  const session = await launchBrowser({
    ...opts,
    profileDir: opts.webgpu === false ? undefined : profileDir,
  });
  await session.page.setViewportSize(VIEWPORT);
  return session;
}

test.beforeAll(async () => {
  await mkdir(SHOTS, { recursive: true });
  profileDir = await mkdtemp(join(tmpdir(), 'kvshare-demo-e2e-'));
  // Its own dev server (offline): the stories model, the same model under a second name (a model of
  // its own to the demo: settings and conversation kept apart), and a GGUF file of it in a folder.
  assets = await mkdtemp(join(tmpdir(), 'kvshare-demo-assets-'));
  await cp(STORIES, join(assets, 'stories260K-hf'), { recursive: true });
  await cp(STORIES, join(assets, 'tiny-chat'), { recursive: true });
  await writeStoriesGguf(join(assets, 'stories-gguf'), ['F32'], false);
  server = await startPageServer('demo', assets);
  browser = await openBrowser();
  demo = new DemoDriver(browser.page);
  await demo.open(server.origin);
});

test.afterAll(async () => {
  await browser?.close();
  await server?.close();
  if (profileDir) await rm(profileDir, { recursive: true, force: true });
  if (assets) await rm(assets, { recursive: true, force: true });
});

test.describe('the chat demo in headless chromium', () => {
  test('offers the local stories model offline and loads it with byte progress up to 100%', async () => {
    const index = await browser.page.evaluate(() => fetch('/models/index.json').then((r) => r.json()));
    expect(index).toEqual({ models: expect.arrayContaining(['stories260K-hf']), network: false });
    expect(await browser.page.getByTestId('model-select').inputValue()).toBe('stories260K-hf');
    // Local .gguf files are offered beside the model folders.
    expect(index.models).toContain('stories-gguf/stories-F32.gguf');
    expect(
      await browser.page
        .locator('[data-testid="model-select"] option')
        .evaluateAll((os) => os.map((o) => (o as HTMLOptionElement).value)),
    ).toEqual(expect.arrayContaining(['stories-gguf/stories-F32.gguf', 'stories260K-hf', 'tiny-chat']));
    // The model box says what it takes; offline, the reason the hub will not work is on the page.
    const box = browser.page.getByTestId('hf-model-input');
    expect(await box.getAttribute('aria-label')).toMatch(/Hugging Face id.*URL.*path on this server/);
    expect(await box.getAttribute('placeholder')).toContain('/models/');
    expect(await browser.page.locator('option[value="__hf__"]').textContent()).toBe('Hub id, URL or path…');
    expect(await box.isDisabled()).toBe(true);
    const offline = browser.page.getByTestId('offline-note');
    expect(await offline.isVisible()).toBe(true);
    expect(await offline.textContent()).toMatch(/^Offline: the server found no network/);
    await browser.page.locator('#model-picker').screenshot({ path: join(SHOTS, 'demo-picker-offline.png') });
    expect(await browser.page.getByTestId('send-button').isDisabled()).toBe(true);
    // The cache buttons, the import label included, read as disabled until a model is loaded.
    expect(await browser.page.getByTestId('cache-import-label').getAttribute('aria-disabled')).toBe('true');
    // Record every percent the bar shows while loading.
    await browser.page.evaluate(() => {
      const bar = document.querySelector('[data-testid="load-progress"]')!;
      const seen: number[] = [];
      (window as unknown as { percents: number[] }).percents = seen;
      new MutationObserver(() => seen.push(Number(bar.getAttribute('data-percent')))).observe(bar, {
        attributes: true,
        attributeFilter: ['data-percent'],
      });
      // And every phase it names (data-phase on the progress block).
      const phases: string[] = [];
      (window as unknown as { phases: string[] }).phases = phases;
      new MutationObserver(() => {
        const phase = bar.parentElement!.getAttribute('data-phase') ?? '';
        if (phases.at(-1) !== phase) phases.push(phase);
      }).observe(bar.parentElement!, { attributes: true, attributeFilter: ['data-phase'] });
    });
    expect(await demo.load()).toBe('ready');
    const percents = await browser.page.evaluate(
      () => (window as unknown as { percents: number[] }).percents,
    );
    expect(percents.length).toBeGreaterThan(2);
    expect(percents.at(-1)).toBe(100);
    expect(percents.some((p) => p > 0 && p < 100)).toBe(true);
    expect(percents).toEqual([...percents].sort((a, b) => a - b)); // never backwards
    const label = await browser.page.getByTestId('load-progress-label').textContent();
    expect(label).toMatch(/^Ready: \d+\.\d+ MB \/ \d+\.\d+ MB \(100%\) in \d+\.\d s$/);
    const phases = await browser.page.evaluate(() => (window as unknown as { phases: string[] }).phases);
    expect(phases[0]).toBe('start');
    expect(phases).toContain('fetch');
    expect(phases.slice(-2)).toEqual(['compile', 'ready']);
    expect(await browser.page.getByTestId('load-status').textContent()).toContain('stories260K-hf');
    expect(await browser.page.getByTestId('send-button').isEnabled()).toBe(true);
    expect(await browser.page.getByTestId('cache-import-label').getAttribute('aria-disabled')).toBe('false');
    // No stale "Load a model" once one is loaded; the placeholder reads as a hint, not as text.
    expect(await browser.page.getByTestId('chat-empty').textContent()).toMatch(/^Ready: type a prompt/);
    expect(await browser.page.getByTestId('prompt-input').getAttribute('placeholder')).toMatch(
      /^Ask something/,
    );
    await browser.page.screenshot({ path: join(SHOTS, 'demo-loaded.png') });
  });

  test('a greedy answer in the browser equals the Node engine greedy answer', async () => {
    const prompt = 'Lily went to the park';
    const maxTokens = 16;
    const answer = await demo.ask(prompt, { maxTokens, temperature: 0, reuseMode: 'none' });
    const node = createNodeEngine();
    try {
      await node.load(STORIES, { contextLength: 512 });
      const ref = await node.chat.completions.create({
        messages: [{ role: 'user', content: prompt }],
        max_tokens: maxTokens,
        temperature: 0,
        reuse: { mode: 'none' },
      });
      expect(ref.choices[0].message.content.length).toBeGreaterThan(0);
      expect(answer.text).toBe(ref.choices[0].message.content);
      expect(answer.finish).toBe(ref.choices[0].finish_reason);
      expect(answer.badge?.prompt).toBe(ref.usage.prompt_tokens);
      expect(answer.badge?.completion).toBe(ref.usage.completion_tokens);
      expect(answer.badge?.reused).toBe(0);
    } finally {
      await node.unload();
    }
  });

  test('a similar second prompt reuses cached KV: badge and reuse map show it', async () => {
    await demo.cacheAction(() => demo.clearCache(), /Cleared/);
    expect((await demo.cache()).entries).toBe(0);
    const first = await demo.ask(LILY, { maxTokens: 8, reuseMode: 'kvshare' });
    expect(first.badge?.reused).toBe(0);
    expect(first.fates.every((f) => f === 'new')).toBe(true);
    const second = await demo.ask(TOM, { maxTokens: 8 });
    const badge = second.badge!;
    expect(badge.text).toMatch(/^reused \d+ · recomputed \d+ · new \d+ · prompt \d+ · TTFT \d+ ms · /);
    expect(badge.reused).toBeGreaterThan(0);
    expect(badge.text).toContain(
      `reused ${badge.reused} · recomputed ${badge.recomputed} · new ${badge.new}`,
    );
    // The map: one span per prompt token, as many spans of each fate as the badge says, in its words.
    expect(second.fates).toHaveLength(badge.prompt);
    expect(second.fates.filter((f) => f === 'reused')).toHaveLength(badge.reused);
    expect(second.fates.filter((f) => f === 'recomputed')).toHaveLength(badge.recomputed);
    expect(second.fates.filter((f) => f === 'new')).toHaveLength(badge.new);
    const legend = await browser.page.getByTestId('reuse-legend').last().textContent();
    expect(legend).toContain(`reused ${badge.reused}`);
    expect(legend).toContain(`recomputed ${badge.recomputed}`);
    expect(second.mapText).toContain('Tom found a blue ball in the park.');
    const stats = await demo.cache();
    expect(stats.entries).toBe(2);
    expect(stats.hits).toBe(1);
    expect(stats.text).toMatch(/Hit rate\s*50%/);
    // stories260K: 5 layers x K and V x 32 halves (the default f16)
    expect([stats.kvDtype, stats.kvBytesPerToken]).toEqual(['f16', 5 * 2 * 32 * 2]);
    expect(stats.text).toMatch(/K\/V storage\s*f16, 640 B per token/);
    await browser.page.screenshot({ path: join(SHOTS, 'demo-answer-reuse.png') });
  });

  test('an exact repeat answers from the cache: the badge shows the saving against computing all tokens', async () => {
    await demo.cacheAction(() => demo.clearCache(), /Cleared/);
    const cold = await demo.ask(LILY, { maxTokens: 8, reuseMode: 'kvshare' });
    const repeat = await demo.ask(LILY, { maxTokens: 8 });
    const badge = repeat.badge!;
    expect(repeat.text).toBe(cold.text);
    expect(badge.reused).toBe(badge.prompt - 1);
    expect(badge.new).toBe(1);
    expect(badge.estimatedFullMs).toBeGreaterThan(0);
    expect(badge.text).toMatch(
      new RegExp(
        `TTFT \\d+ ms · (~[\\d.]+× (faster|slower) than|about as fast as) computing all ${badge.prompt} tokens · answer 8 tokens$`,
      ),
    );
    // Only a reuse that paid off wears the success style; "slower" never does.
    const shown = browser.page.getByTestId('reuse-badge').last();
    const verdict = badge.text.includes('faster')
      ? 'faster'
      : badge.text.includes('slower')
        ? 'slower'
        : 'same';
    expect(await shown.getAttribute('data-verdict')).toBe(verdict);
    expect(await shown.evaluate((b) => b.classList.contains('hit'))).toBe(verdict === 'faster');
    // Figures for the report (timing is not asserted): cold TTFT, repeat TTFT, estimated full prefill.
    console.log(
      `demo exact repeat: cold TTFT ${cold.badge?.ttftMs} ms, repeat TTFT ${badge.ttftMs} ms, estimated full ${badge.estimatedFullMs} ms`,
    );
  });

  test('the cache persists: after a reload and after a browser restart a similar prompt hits', async () => {
    const before = await demo.cache();
    expect(before.persistent).toBe(true);
    expect(before.persistedEntries).toBe(before.entries);
    expect(before.entries).toBeGreaterThan(0);

    // The page remembers: after a reload the model loads by itself (no click), with the conversation
    // and the settings as they were.
    await demo.setSettings({ maxTokens: 12, temperature: 0.5, reuseMode: 'prefix' });
    const conversation = () =>
      browser.page
        .locator('[data-testid="message-user"] .text, [data-testid="message-text"]')
        .allTextContents();
    const shown = await conversation();
    const answers = await browser.page.getByTestId('message-assistant').count();
    expect(answers).toBeGreaterThan(0);
    await browser.page.reload();
    expect(await demo.settled()).toBe('ready');
    expect(await demo.counter('loads')).toBe(1);
    expect(await browser.page.getByTestId('load-status').textContent()).toContain('stories260K-hf');
    expect(await browser.page.getByTestId('model-select').inputValue()).toBe('stories260K-hf');
    expect(await browser.page.getByTestId('message-assistant').count()).toBe(answers);
    expect(await conversation()).toEqual(shown);
    expect(await browser.page.getByTestId('max-tokens').inputValue()).toBe('12');
    expect(await browser.page.getByTestId('temperature').inputValue()).toBe('0.5');
    expect(await browser.page.getByTestId('reuse-mode').inputValue()).toBe('prefix');
    await browser.page.screenshot({ path: join(SHOTS, 'demo-restored-after-reload.png') });
    await demo.setSettings({ temperature: 0 });
    const afterReload = await demo.cache();
    expect(afterReload.entries).toBe(before.entries);
    expect(afterReload.hits).toBe(0);
    const hit = await demo.ask(SAM, { maxTokens: 8, reuseMode: 'kvshare' });
    expect(hit.badge?.reused).toBeGreaterThan(0);

    // Same profile, new browser process: IndexedDB still holds the entries.
    const entries = (await demo.cache()).entries;
    closedErrors.push(...browser.errors);
    await browser.close();
    browser = await openBrowser();
    demo = new DemoDriver(browser.page);
    expect(await demo.open(server.origin)).toBe('ready');
    expect((await demo.cache()).entries).toBe(entries);
    expect(await browser.page.getByTestId('message-assistant').count()).toBeGreaterThan(answers);
  });

  test('a remembered model that loads by itself can be stopped; New chat forgets the conversation', async () => {
    // Hold the weights download until Stop loading is clicked, so the stop lands mid-load.
    let release: () => void = () => undefined;
    const held = new Promise<void>((ok) => {
      release = ok;
    });
    await browser.page.route('**/model.safetensors', async (route) => {
      await held;
      await route.continue().catch(() => undefined);
    });
    try {
      await browser.page.reload();
      await demo.waitState('loading');
      const stop = browser.page.getByTestId('load-stop');
      await stop.waitFor({ state: 'visible' });
      expect(await browser.page.getByTestId('load-button').isVisible()).toBe(false);
      await stop.click();
      expect(await demo.waitState(['idle', 'ready', 'load-error'])).toBe('idle');
    } finally {
      release();
      await browser.page.unroute('**/model.safetensors');
    }
    expect(await browser.page.getByTestId('load-status').textContent()).toMatch(/Loading stopped/);
    expect(await browser.page.getByTestId('load-progress-label').textContent()).toMatch(
      /^Stopped at \d+% after/,
    );
    expect(await browser.page.getByTestId('load-error').isVisible()).toBe(false);
    expect(await browser.page.getByTestId('load-button').isEnabled()).toBe(true);
    expect(await browser.page.getByTestId('send-button').isDisabled()).toBe(true);
    expect(await browser.page.getByTestId('message-assistant').count()).toBeGreaterThan(0);
    await browser.page.screenshot({ path: join(SHOTS, 'demo-autoload-stopped.png') });
    // Stopped once: the next visit waits for Load; Load turns loading by itself back on.
    await browser.page.reload();
    expect(await demo.settled()).toBe('idle');
    expect(await demo.load()).toBe('ready');
    await browser.page.getByTestId('new-chat').click();
    expect(await browser.page.getByTestId('message-assistant').count()).toBe(0);
    await browser.page.reload();
    expect(await demo.settled()).toBe('ready');
    expect(await browser.page.getByTestId('message-assistant').count()).toBe(0);
    expect(await browser.page.getByTestId('chat-empty').textContent()).toMatch(/^Ready: type a prompt/);
  });

  test('Stop ends a long answer promptly and the engine answers the next request', async () => {
    await demo.setSettings({ maxTokens: 400, reuseMode: 'kvshare' });
    const index = await browser.page.getByTestId('message-assistant').count();
    const answers = await demo.counter('answers');
    await demo.send('Once upon a time');
    const text = browser.page.getByTestId('message-assistant').nth(index).getByTestId('message-text');
    await browser.page.waitForFunction(
      (el) => (el?.textContent ?? '').length > 0,
      await text.elementHandle(),
    );
    const stoppedAt = Date.now();
    await browser.page.getByTestId('stop-button').click();
    await demo.waitCounter('answers', answers + 1, 10_000);
    const stopMs = Date.now() - stoppedAt;
    const stopped = await demo.readAnswer(index);
    expect(stopped.finish).toBe('abort');
    expect(stopped.badge?.finish).toBe('abort');
    expect(stopped.badge?.text).toContain('stopped');
    expect(stopped.badge?.completion).toBeLessThan(400);
    expect(stopMs).toBeLessThan(5000);
    expect(await browser.page.getByTestId('stop-button').isDisabled()).toBe(true);

    const answersNode = browser.page.getByTestId('message-assistant');
    expect(await answersNode.nth(index).getByTestId('truncated').count()).toBe(0);
    // Out-of-range settings are refused with a visible reason; nothing is sent.
    for (const [maxTokens, temperature] of [
      [0, 0],
      [100_000, 0],
      [8, -1],
    ] as const) {
      await demo.setSettings({ maxTokens, temperature });
      await demo.send('Tom had a dog');
      await expect.poll(() => browser.page.getByTestId('settings-error').isVisible()).toBe(true);
      expect(await answersNode.count()).toBe(index + 1);
    }
    await browser.page.locator('#settings').screenshot({ path: join(SHOTS, 'demo-settings-refused.png') });
    await demo.setSettings({ temperature: 0 });
    const next = await demo.ask('Tom had a dog', { maxTokens: 8 });
    expect(await browser.page.getByTestId('settings-error').isVisible()).toBe(false);
    expect(next.finish).toBe('length');
    expect(next.badge?.completion).toBe(8);
    // Cut by the token limit: marked as such (a stopped answer is not).
    await expect
      .poll(() =>
        answersNode
          .nth(index + 1)
          .getByTestId('truncated')
          .textContent(),
      )
      .toMatch(/cut off at the max new tokens limit/);
    await answersNode.nth(index + 1).screenshot({ path: join(SHOTS, 'demo-truncated-answer.png') });
  });

  test('exports a pack, clears the cache, imports the pack: entries and hits come back', async () => {
    const entries = (await demo.cache()).entries;
    expect(entries).toBeGreaterThan(0);
    const download = browser.page.waitForEvent('download');
    await demo.cacheAction(() => browser.page.getByTestId('cache-export').click(), /Exported a pack/);
    const file = await download;
    expect(file.suggestedFilename()).toMatch(/^stories260K-hf-\d+\.kvpack$/);
    const packPath = join(tmpdir(), `kvshare-demo-e2e-${file.suggestedFilename()}`);
    await file.saveAs(packPath);
    try {
      // Clear asks first: dismissed, nothing is cleared.
      await demo.clearCache(false);
      const kept = await demo.cache();
      expect(kept.entries).toBe(entries);
      expect(kept.hits).toBeGreaterThan(0);
      await demo.cacheAction(() => demo.clearCache(), /Cleared/);
      const cleared = await demo.cache();
      expect(cleared.entries).toBe(0);
      expect(cleared.persistedEntries).toBe(0);
      // The hit rate starts again from the Clear.
      expect(cleared.hits).toBe(0);
      expect(cleared.text).toMatch(/Hit rate\s*—/);
      expect(cleared.text).toMatch(/Tokens reused\s*0/);
      await browser.page.locator('#cache-panel').screenshot({ path: join(SHOTS, 'demo-cache-cleared.png') });

      const imported = await demo.cacheAction(
        () => browser.page.getByTestId('cache-import').setInputFiles(packPath),
        /Imported \d+ entries/,
      );
      expect(imported).toContain(`Imported ${entries} entries`);
      expect((await demo.cache()).entries).toBe(entries);
      // The export is also kept in memory: clear again and import it without the file.
      await demo.cacheAction(() => demo.clearCache(), /Cleared/);
      expect((await demo.cache()).entries).toBe(0);
      await demo.cacheAction(
        () => browser.page.getByTestId('cache-import-last').click(),
        new RegExp(`Imported ${entries} entries from the last export`),
      );
      expect((await demo.cache()).entries).toBe(entries);
      const hit = await demo.ask(ANN, { maxTokens: 8, reuseMode: 'kvshare' });
      expect(hit.badge?.reused).toBeGreaterThan(0);
      await browser.page.locator('#cache-panel').screenshot({ path: join(SHOTS, 'demo-cache-panel.png') });
    } finally {
      await rm(packPath, { force: true });
    }
  });

  test('settings are checked as they are typed: the reason shows at once and goes when fixed', async () => {
    const page = browser.page;
    const error = page.getByTestId('settings-error');
    const answers = await page.getByTestId('message-assistant').count();
    await demo.setSettings({ maxTokens: 8, temperature: 0 });
    expect(await error.isVisible()).toBe(false);
    await page.getByTestId('max-tokens').fill('0');
    await expect(error).toBeVisible();
    await expect(error).toHaveText(/^Max new tokens must be a whole number from 1 to \d+/);
    await expect(page.getByTestId('max-tokens')).toHaveAttribute('aria-invalid', 'true');
    await page.locator('#settings').screenshot({ path: join(SHOTS, 'demo-settings-live-error.png') });
    await page.getByTestId('max-tokens').fill('8');
    await expect(error).toBeHidden();
    await page.getByTestId('temperature').fill('-1');
    await expect(error).toHaveText(/^Temperature must be from 0/);
    await page.getByTestId('temperature').fill('0.7');
    await expect(error).toBeHidden();
    await expect(page.getByTestId('temperature')).toHaveAttribute('aria-invalid', 'false');
    // Typing sent nothing.
    expect(await page.getByTestId('message-assistant').count()).toBe(answers);
    await demo.setSettings({ temperature: 0 });
  });

  test('settings and conversations are kept per model; ?model= loads that model and not the old chat', async () => {
    const page = browser.page;
    const maxTokens = page.getByTestId('max-tokens');
    const history = page.getByTestId('history-toggle');
    await demo.setSettings({ maxTokens: 40 });
    await history.setChecked(false);
    const storiesAnswers = await page.getByTestId('message-assistant').count();
    expect(storiesAnswers).toBeGreaterThan(0);

    // ?model= names another local model: it loads, with an empty chat of its own and the settings
    // on screen carried over as they are (not replaced by defaults).
    expect(await demo.open(server.origin, '?model=tiny-chat')).toBe('ready');
    expect(await page.getByTestId('load-status').textContent()).toContain('tiny-chat');
    expect(await page.getByTestId('model-select').inputValue()).toBe('tiny-chat');
    expect(await page.getByTestId('message-assistant').count()).toBe(0);
    expect(await maxTokens.inputValue()).toBe('40');
    expect(await history.isChecked()).toBe(false);
    expect(await page.getByTestId('settings-model').textContent()).toBe('Kept for tiny-chat');
    await page.screenshot({ path: join(SHOTS, 'demo-query-model-own-chat.png') });
    await history.setChecked(true);
    const tiny = await demo.ask(TOM, { maxTokens: 20, temperature: 0 });
    expect(tiny.badge?.completion).toBeLessThanOrEqual(20);

    // Back to stories: its own conversation and its own settings come back.
    expect(await demo.load('stories260K-hf')).toBe('ready');
    expect(await page.getByTestId('message-assistant').count()).toBe(storiesAnswers);
    expect(await maxTokens.inputValue()).toBe('40');
    expect(await history.isChecked()).toBe(false);
    expect(await page.getByTestId('settings-model').textContent()).toBe('Kept for stories260K-hf');
    // And tiny-chat again: its one answer, 20 tokens, earlier turns on.
    expect(await demo.load('tiny-chat')).toBe('ready');
    expect(await page.getByTestId('message-assistant').count()).toBe(1);
    expect(await maxTokens.inputValue()).toBe('20');
    expect(await history.isChecked()).toBe(true);
    await page.locator('#settings').screenshot({ path: join(SHOTS, 'demo-settings-kept-per-model.png') });
    // A reload (no ?model=) comes back to the last model, with its chat and settings.
    await page.goto(`${server.origin}/`);
    expect(await demo.settled()).toBe('ready');
    expect(await page.getByTestId('load-status').textContent()).toContain('tiny-chat');
    expect(await maxTokens.inputValue()).toBe('20');
    expect(await page.getByTestId('message-assistant').count()).toBe(1);
    expect(await demo.load('stories260K-hf')).toBe('ready');
    expect(await page.getByTestId('message-assistant').count()).toBe(storiesAnswers);
  });

  test('a reuse that came out slower is said plainly, never in the success style', async () => {
    const page = browser.page;
    // The badge the demo builds for each outcome (the page's own module, served by Vite).
    const r = await page.evaluate(async () => {
      const path = '/ui/reuse-map.ts';
      const { reuseBadge } = await import(/* @vite-ignore */ path);
      const usage = (ttft: number, est: number) => ({
        prompt_tokens: 24,
        completion_tokens: 8,
        reused_tokens: 20,
        token_fates: [...Array(20).fill('reused'), ...Array(4).fill('new')],
        time_to_first_token_ms: ttft,
        estimated_full_prefill_ms: est,
        prefill_path: 'kvshare',
      });
      const host = document.createElement('div');
      host.id = 'verdicts';
      host.style.cssText = 'display:flex;flex-direction:column;gap:4px;padding:8px;background:#fff';
      const badges = [usage(10, 50), usage(50, 51), usage(85, 50)].map((u) => reuseBadge(u, 'length'));
      host.append(...badges);
      document.querySelector('#chat')!.prepend(host);
      return badges.map((b: HTMLElement) => ({
        text: b.textContent,
        verdict: b.dataset.verdict,
        classes: [...b.classList],
        background: getComputedStyle(b).backgroundColor,
      }));
    });
    expect(r.map((b) => b.verdict)).toEqual(['faster', 'same', 'slower']);
    expect(r[0].classes).toContain('hit');
    expect(r[1].classes).not.toContain('hit');
    expect(r[2].text).toContain('~1.7× slower than computing all 24 tokens');
    expect(r[2].classes).toEqual(['reuse-badge', 'slower']);
    expect(r[2].background).not.toBe(r[0].background);
    expect(r[1].background).not.toBe(r[0].background);
    await page.locator('#verdicts').screenshot({ path: join(SHOTS, 'demo-reuse-badge-verdicts.png') });
    await page.evaluate(() => document.querySelector('#verdicts')?.remove());
  });

  test('no sideways scroll from 360 to 420 px wide', async () => {
    const page = browser.page;
    try {
      for (const width of [360, 390, 420]) {
        await page.setViewportSize({ width, height: 780 });
        const sizes = await page.evaluate(() => ({
          scroll: document.documentElement.scrollWidth,
          client: document.documentElement.clientWidth,
          wide: [...document.querySelectorAll<HTMLElement>('#app *')]
            .filter((e) => e.getBoundingClientRect().right > document.documentElement.clientWidth + 0.5)
            .slice(0, 5)
            .map((e) => `${e.localName}.${e.className}`),
        }));
        expect(sizes.wide, `at ${width} px`).toEqual([]);
        expect(sizes.scroll, `at ${width} px`).toBeLessThanOrEqual(sizes.client);
        if (width !== 390)
          await page.screenshot({ path: join(SHOTS, `demo-narrow-${width}.png`), fullPage: true });
      }
    } finally {
      await page.setViewportSize(VIEWPORT);
    }
  });

  test('shows a load error with its code', async () => {
    // A page of its own: the failed fetch logs console errors that are expected here.
    const page = await browser.context.newPage();
    try {
      const other = new DemoDriver(page);
      await other.open(server.origin, '?model=/models/no-such-model');
      expect(await page.getByTestId('model-select').inputValue()).toBe('__hf__');
      expect(await other.load()).toBe('load-error');
      const error = page.getByTestId('load-error');
      expect(await error.getAttribute('data-code')).toBe('MODEL_FILE_MISSING');
      expect(await error.textContent()).toContain('MODEL_FILE_MISSING');

      // With a working model, a failed load of another goes back to it: the chat stays usable.
      expect(await other.load('stories260K-hf')).toBe('ready');
      await page.getByTestId('model-select').selectOption('__hf__');
      expect(await other.load()).toBe('ready');
      expect(await error.getAttribute('data-code')).toBe('MODEL_FILE_MISSING');
      expect(await page.getByTestId('load-status').textContent()).toContain('stories260K-hf');
      // The picker shows the model gone back to, not the one that failed.
      expect(await page.getByTestId('model-select').inputValue()).toBe('stories260K-hf');
      await page.getByTestId('prompt-input').fill('Tom had a dog');
      expect(await page.getByTestId('send-button').isEnabled()).toBe(true);
      await page.screenshot({ path: join(SHOTS, 'demo-failed-load-kept-model.png') });
    } finally {
      await page.close();
    }
  });

  test('a browser without WebGPU gets the webgpu-missing screen and no engine', async () => {
    const plain = await openBrowser({ webgpu: false });
    try {
      const page = plain.page;
      const noGpu = new DemoDriver(page);
      await noGpu.open(server.origin);
      expect(await noGpu.waitState('no-webgpu')).toBe('no-webgpu');
      const screen = page.getByTestId('webgpu-missing');
      expect(await screen.isVisible()).toBe(true);
      expect(await screen.getAttribute('data-reason')).toBe('no-adapter');
      const text = (await screen.textContent()) ?? '';
      expect(text).toContain('Chrome or Edge');
      expect(text).toContain('chrome://flags');
      expect(text).toContain('--enable-unsafe-webgpu');
      expect(text).toMatch(/drivers/i);
      expect(await page.getByTestId('load-button').count()).toBe(0);
      expect(page.workers()).toHaveLength(0); // the engine's worker was never started
      await page.screenshot({ path: join(SHOTS, 'demo-webgpu-missing.png') });

      // No navigator.gpu at all (older browsers): the same screen, for that reason.
      const bare = await plain.context.newPage();
      await bare.addInitScript(() => {
        delete (Navigator.prototype as { gpu?: unknown }).gpu;
      });
      await bare.goto(`${server.origin}/`);
      await bare.locator('#app[data-state="no-webgpu"]').waitFor({ state: 'attached' });
      expect(await bare.getByTestId('webgpu-missing').getAttribute('data-reason')).toBe('no-api');
      expect(plain.errors).toEqual([]);
    } finally {
      await plain.close();
    }
  });

  test('logged no console errors on the happy path (page and workers)', () => {
    expect([...closedErrors, ...browser.errors]).toEqual([]);
  });
});
