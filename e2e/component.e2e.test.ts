// The <kvshare-chat> web component in headless chromium: the embed page demo/embed.html (two chats
// sharing one engine), then the built library (vite.component.config.ts) on a plain static page.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ConsoleMessage, Page } from '@playwright/test';
import { expect, test } from '@playwright/test';
import { build, type PreviewServer, preview } from 'vite';
import type { KVShareChat } from '../src/component/index.ts';
import { type BrowserSession, freePort, launchBrowser } from './harness.ts';
import { DEMO_ORIGIN } from './servers.ts';

const projectRoot = fileURLToPath(new URL('..', import.meta.url));
/** Long enough that its cache entry (prompt + answer) is found again by the retrieval sketch. */
const PROMPT = 'Once upon a time, Lily found a red ball in the park. She was very happy.';
const SCREENSHOT = resolve(projectRoot, 'test-results/screenshots/component-page.png');

/** A component event as the page recorded it (plain JSON). */
interface Recorded {
  type: 'ready' | 'message' | 'error';
  id: string;
  location?: string;
  content?: string;
  finishReason?: string;
  usage?: { prompt_tokens: number; completion_tokens: number; reused_tokens: number } | null;
  code?: string;
  message?: string;
}

declare global {
  interface Window {
    kvEvents: Recorded[];
  }
}

/** Before any page script: record every ready/message/error event of a <kvshare-chat> on `document`. */
function recordEvents(): void {
  window.kvEvents = [];
  for (const type of ['ready', 'message', 'error'] as const) {
    document.addEventListener(type, (ev) => {
      const el = ev.target as HTMLElement;
      if (!(ev instanceof CustomEvent) || el.localName !== 'kvshare-chat') return;
      const d = ev.detail;
      window.kvEvents.push(
        type === 'ready'
          ? { type, id: el.id, location: d.location }
          : type === 'message'
            ? { type, id: el.id, content: d.content, finishReason: d.finishReason, usage: d.usage }
            : { type, id: el.id, code: d.code, message: d.message },
      );
    });
  }
}

const events = (page: Page, type: Recorded['type'], id?: string): Promise<Recorded[]> =>
  page.evaluate(([t, i]) => window.kvEvents.filter((e) => e.type === t && (i === undefined || e.id === i)), [
    type,
    id,
  ] as const);

const waitForEvents = (page: Page, type: Recorded['type'], count: number, id?: string) =>
  page.waitForFunction(
    ([t, n, i]) => window.kvEvents.filter((e) => e.type === t && (i === undefined || e.id === i)).length >= n,
    [type, count, id] as const,
    { timeout: 120_000 },
  );

const engineCount = (page: Page): Promise<number> =>
  page.evaluate(() => (customElements.get('kvshare-chat') as typeof KVShareChat).engineCount());

/** The text of the first element matching `selector` (open shadow roots are searched). */
const text = (page: Page, selector: string): Promise<string | null> =>
  page.locator(selector).first().textContent();

/** Console errors and crashes of a page other than the harness's own, and of its workers. */
function watchErrors(page: Page, errors: string[]): void {
  const onConsole = (where: string) => (msg: ConsoleMessage) => {
    if (msg.type() === 'error') errors.push(`${where} console.error: ${msg.text()} (${msg.location().url})`);
  };
  page.on('console', onConsole('page'));
  page.on('pageerror', (e) => errors.push(`page error: ${e.message}`));
  page.on('worker', (w) => w.on('console', onConsole('worker')));
}

test.describe.configure({ mode: 'serial' });

let browser: BrowserSession;

test.beforeAll(async () => {
  await mkdir(dirname(SCREENSHOT), { recursive: true });
  browser = await launchBrowser();
  await browser.page.addInitScript(recordEvents);
  await browser.page.goto(`${DEMO_ORIGIN}/embed.html`);
  await waitForEvents(browser.page, 'ready', 2);
});

test.afterAll(async () => {
  await browser?.close();
});

test.describe('<kvshare-chat> on demo/embed.html', () => {
  test('both chats fire ready and share one engine (one worker)', async () => {
    const page = browser.page;
    const ready = await events(page, 'ready');
    expect(ready.map((e) => e.id).sort()).toEqual(['story-helper', 'story-teller']);
    expect(ready[0].location).toBe(`${DEMO_ORIGIN}/models/stories260K-hf`);
    const ids = await page.evaluate(() =>
      [...document.querySelectorAll('kvshare-chat')].map((el) => el.getAttribute('data-engine-id')),
    );
    expect(ids[0]).toMatch(/^kvshare-engine-\d+$/);
    expect(ids[1]).toBe(ids[0]);
    expect(await engineCount(page)).toBe(1);
    expect(page.workers()).toHaveLength(1);
    expect(await text(page, '#story-teller [part="status"]')).toMatch(/Ready/);
  });

  test('answers a prompt typed into the first chat, streaming it into the list', async () => {
    const page = browser.page;
    // Count the text updates of the answer as they land (streaming: more than one).
    await page.evaluate(() => {
      const list = document.querySelector('#story-teller')!.shadowRoot!.querySelector('[part="messages"]')!;
      const w = window as unknown as { kvUpdates: number };
      w.kvUpdates = 0;
      new MutationObserver(() => w.kvUpdates++).observe(list, { subtree: true, childList: true });
    });
    const chat = page.locator('#story-teller');
    await chat.locator('[part="input"]').fill(PROMPT);
    await chat.locator('[part="send"]').click();
    await waitForEvents(page, 'message', 1, 'story-teller');
    const [msg] = await events(page, 'message', 'story-teller');
    expect(msg.content?.length).toBeGreaterThan(0);
    expect(['stop', 'length']).toContain(msg.finishReason);
    expect(msg.usage?.completion_tokens).toBeGreaterThan(0);
    expect(msg.usage?.completion_tokens).toBeLessThanOrEqual(24);
    expect(await text(page, '#story-teller [part~="assistant"]')).toBe(msg.content);
    expect(await text(page, '#story-teller [part~="user"]')).toBe(PROMPT);
    expect(await text(page, '#story-teller [part="status"]')).toMatch(/reused \d+ of \d+ prompt tokens/);
    expect(await chat.locator('[part="send"]').isVisible()).toBe(true);
    expect(await chat.locator('[part="stop"]').isVisible()).toBe(false);
    expect(await page.evaluate(() => (window as unknown as { kvUpdates: number }).kvUpdates)).toBeGreaterThan(
      3,
    );
  });

  test('the second chat asks the same and reuses the first one’s KV (same engine, same cache)', async () => {
    const page = browser.page;
    const r = await page.evaluate(
      (q) => document.querySelector<KVShareChat>('#story-helper')!.send(q),
      PROMPT,
    );
    const [first] = await events(page, 'message', 'story-teller');
    expect(r?.content).toBe(first.content);
    expect(r?.usage?.reused_tokens).toBeGreaterThan(0);
    expect(await engineCount(page)).toBe(1);
  });

  test('renders user and model text as text, never as HTML', async () => {
    const page = browser.page;
    const evil = '<b>x</b> <img src=x onerror="window.kvPwned=1">';
    const chat = page.locator('#story-helper');
    await chat.locator('[part="input"]').fill(evil);
    await chat.locator('[part="send"]').click();
    await waitForEvents(page, 'message', 2, 'story-helper');
    const r = await page.evaluate(() => {
      const root = document.querySelector('#story-helper')!.shadowRoot!;
      return {
        tags: [...new Set([...root.querySelectorAll('*')].map((el) => el.localName))].sort(),
        users: [...root.querySelectorAll('[part~="user"]')].map((el) => el.textContent),
        pwned: 'kvPwned' in window,
      };
    });
    expect(r.tags).toEqual(['button', 'div', 'form', 'input', 'li', 'ol', 'style']);
    expect(r.users.at(-1)).toBe(evil);
    expect(r.pwned).toBe(false);
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
  });

  test('the stop button ends an answer early; attributes reflect as properties', async () => {
    const page = browser.page;
    const r = await page.evaluate(async () => {
      const el = document.querySelector<KVShareChat>('#story-teller')!;
      el.maxTokens = 300;
      const reflected = el.getAttribute('max-tokens');
      const root = el.shadowRoot!;
      const stop = root.querySelector<HTMLButtonElement>('[part="stop"]')!;
      // Press stop once the answer has begun to appear.
      const seen = { stopShown: false };
      const obs = new MutationObserver(() => {
        const last = [...root.querySelectorAll('[part~="assistant"]')].at(-1);
        if (last?.textContent && !stop.hidden) {
          seen.stopShown = true;
          obs.disconnect();
          stop.click();
        }
      });
      obs.observe(root, { subtree: true, childList: true, characterData: true, attributes: true });
      const answer = await el.send('Once upon a time');
      el.maxTokens = 24;
      return { reflected, answer, seen, stopHidden: stop.hidden, answering: el.answering };
    });
    expect(r.reflected).toBe('300');
    expect(r.seen.stopShown).toBe(true);
    expect(r.answer?.finishReason).toBe('abort');
    expect(r.answer?.usage?.completion_tokens).toBeLessThan(300);
    expect(r.stopHidden).toBe(true);
    expect(r.answering).toBe(false);
  });

  test('a missing model fires error MODEL_FILE_MISSING; a new model attribute loads that model', async () => {
    const page = browser.page;
    await page.evaluate(() => {
      const el = document.createElement('kvshare-chat');
      el.id = 'third';
      el.setAttribute('model', '/models/no-such-model');
      document.querySelector('main')!.append(el);
    });
    await waitForEvents(page, 'error', 1, 'third');
    const [err] = await events(page, 'error', 'third');
    expect(err.code).toBe('MODEL_FILE_MISSING');
    expect(await text(page, '#third [part="error"]')).toMatch(/could not be found/);
    await expect.poll(() => engineCount(page)).toBe(1); // the failed engine is gone at once
    await page.evaluate(() => {
      document.querySelector<KVShareChat>('#third')!.model = '/models/stories260K-hf';
    });
    await waitForEvents(page, 'ready', 1, 'third');
    const ids = await page.evaluate(() =>
      ['story-teller', 'third'].map((id) => document.getElementById(id)!.getAttribute('data-engine-id')),
    );
    expect(ids[1]).toBe(ids[0]);
    expect(await engineCount(page)).toBe(1);
    // The failed model's error notice was cleared with its conversation.
    expect(await page.locator('#third [part="error"]').count()).toBe(0);
  });

  test('removing every chat terminates the shared engine (no leaked worker)', async () => {
    const page = browser.page;
    // Moving a chat keeps its engine (disconnect + connect in one task).
    const moved = await page.evaluate(() => {
      const el = document.querySelector('#story-teller')!;
      const before = el.getAttribute('data-engine-id');
      document.body.append(el);
      return new Promise<[string | null, string | null]>((done) =>
        setTimeout(() => done([before, el.getAttribute('data-engine-id')]), 50),
      );
    });
    expect(moved[1]).toBe(moved[0]);
    expect(await engineCount(page)).toBe(1);
    await page.evaluate(() => {
      for (const el of document.querySelectorAll('kvshare-chat')) el.remove();
    });
    await expect.poll(() => engineCount(page)).toBe(0);
    await expect.poll(() => page.workers().length).toBe(0);
  });

  test('logged no console errors (besides the 404s of the missing model)', () => {
    const unexpected = browser.errors.filter((e) => !(/no-such-model/.test(e) && /404/.test(e)));
    expect(unexpected).toEqual([]);
  });
});

test.describe('<kvshare-chat> without WebGPU', () => {
  test('fires error WEBGPU_UNAVAILABLE and says so in the chat', async () => {
    const noGpu = await launchBrowser({ webgpu: false });
    try {
      const page = noGpu.page;
      await page.addInitScript(recordEvents);
      await page.goto(`${DEMO_ORIGIN}/embed.html`);
      await waitForEvents(page, 'error', 2);
      const errs = await events(page, 'error');
      expect(errs.map((e) => e.code)).toEqual(['WEBGPU_UNAVAILABLE', 'WEBGPU_UNAVAILABLE']);
      expect(await text(page, '#story-teller [part="error"]')).toMatch(/WebGPU is not available/);
      expect(await page.locator('#story-teller [part="send"]').isDisabled()).toBe(true);
      expect(await events(page, 'ready')).toEqual([]);
      await expect.poll(() => engineCount(page)).toBe(0);
      expect(noGpu.errors).toEqual([]);
    } finally {
      await noGpu.close();
    }
  });
});

test.describe('the built library (npm run build:component) on a plain static page', () => {
  let site: string;
  let staticServer: PreviewServer;

  test.beforeAll(async () => {
    site = await mkdtemp(join(tmpdir(), 'kvshare-component-'));
    // The bundle one folder down, as a site would put it; its worker must be found next to it.
    await build({
      configFile: resolve(projectRoot, 'vite.component.config.ts'),
      logLevel: 'error',
      build: { outDir: join(site, 'lib') },
    });
    await writeFile(
      join(site, 'index.html'),
      `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>embed</title>
<link rel="icon" href="data:,">
<script type="module" src="./lib/kvshare-chat.js"></script></head>
<body><kvshare-chat id="built" model="/models/stories260K-hf" max-tokens="16"></kvshare-chat></body></html>`,
    );
    const port = await freePort();
    // A static server for `site` (no Vite transforms), plus /models/* from the project config.
    staticServer = await preview({
      configFile: resolve(projectRoot, 'vite.config.ts'),
      build: { outDir: site },
      preview: { host: '127.0.0.1', port, strictPort: true },
      logLevel: 'warn',
    });
  });

  test.afterAll(async () => {
    await staticServer?.close();
    if (site) await rm(site, { recursive: true, force: true });
  });

  test('loads the model in its bundled worker and answers', async () => {
    const page = await browser.context.newPage();
    const errors: string[] = [];
    watchErrors(page, errors);
    const requested: string[] = [];
    page.on('request', (r) => requested.push(new URL(r.url()).pathname));
    try {
      await page.addInitScript(recordEvents);
      const origin = staticServer.resolvedUrls?.local[0]?.replace(/\/$/, '') ?? '';
      await page.goto(`${origin}/`);
      await waitForEvents(page, 'ready', 1);
      const r = await page.evaluate(() => document.querySelector('kvshare-chat')!.send('Tom had a dog'));
      expect(r?.content.length).toBeGreaterThan(0);
      expect(r?.usage?.completion_tokens).toBeGreaterThan(0);
      expect(page.workers().map((w) => new URL(w.url()).pathname)).toEqual([
        expect.stringMatching(/^\/lib\/assets\/worker-[\w-]+\.js$/),
      ]);
      expect(requested.filter((p) => p.endsWith('.wasm'))).toEqual([]);
      expect(errors).toEqual([]);
    } finally {
      await page.close();
    }
  });
});
