// Tiny random-weight Gemma model folders (test/helpers/arch-models.ts; stories260K's tokenizer) in
// headless chromium (SwiftShader). Gemma 2 (GeGLU, (1 + w) norms around attention and MLP, a window
// of 40 on layer 0, attention and final-logit soft-caps): the chat demo loads it by ?model= and
// answers, and an exact repeat with prefix reuse answers the same from reused rows. Gemma 3 (q/k
// norms, a local layer with its own RoPE base and a global one with linear scaling): <kvshare-chat>
// loads it and answers.
import { fileURLToPath } from 'node:url';
import { expect, test } from '@playwright/test';
import type { ModelInfo } from '../src/api/model.ts';
import type { KVShareChat } from '../src/component/index.ts';
import { writeArchModel } from '../test/helpers/arch-models.ts';
import { DemoDriver } from './demo-driver.ts';
import { type BrowserSession, type PageServer, type Site, startSite } from './harness.ts';

const projectRoot = fileURLToPath(new URL('..', import.meta.url));
const QUESTION = 'Once upon a time there was a cat.';
const MAX_TOKENS = 8;

test.describe.configure({ mode: 'serial' });

let site: Site | undefined;
let demoServer: PageServer;
let pagesServer: PageServer;
let browser: BrowserSession;

test.beforeAll(async () => {
  // Its own dev servers, serving at /models/ a temp folder that holds only the gemma2 and gemma3 folders.
  site = await startSite(
    'gemma',
    async (assets) => {
      await writeArchModel('gemma2', assets, []);
      await writeArchModel('gemma3', assets, []);
    },
    ['demo', 'e2e/pages'],
  );
  ({
    browser,
    servers: [demoServer, pagesServer],
  } = site);
});

test.afterAll(async () => site?.close());

test.describe('synthetic Gemma 2 and Gemma 3 models in the browser', () => {
  test('the demo loads the gemma2 folder, answers, and answers an exact repeat the same from reused rows', async () => {
    const demo = new DemoDriver(browser.page);
    expect(await demo.open(demoServer.origin, '?model=gemma2')).toBe('ready');
    expect(await browser.page.getByTestId('load-status').textContent()).toContain('gemma2');
    const first = await demo.ask(QUESTION, { maxTokens: MAX_TOKENS, temperature: 0, reuseMode: 'none' });
    expect(first.text.length).toBeGreaterThan(0);
    expect(first.badge?.completion).toBeGreaterThan(0);
    expect(first.badge?.completion).toBeLessThanOrEqual(MAX_TOKENS);
    expect(first.badge?.reused).toBe(0);

    // A new conversation (earlier turns are off by default) with the same question, prefix reuse.
    const second = await demo.ask(QUESTION, { reuseMode: 'prefix' });
    expect(second.badge?.prompt).toBe(first.badge?.prompt);
    expect(second.badge?.reused).toBeGreaterThan(0);
    expect(second.fates.filter((f) => f === 'reused').length).toBe(second.badge?.reused);
    expect(second.text).toBe(first.text);
    expect(browser.errors).toEqual([]);
  });

  test('<kvshare-chat> loads the gemma3 folder and answers', async () => {
    const page = await browser.context.newPage();
    await page.goto(`${pagesServer.origin}/index.html`);
    await page.addScriptTag({
      type: 'module',
      content: `import '/@fs${projectRoot}src/component/index.ts';`,
    });
    await page.waitForFunction(() => customElements.get('kvshare-chat') !== undefined);
    const r = await page.evaluate(
      async ([url, q, max]) => {
        const el = document.createElement('kvshare-chat') as KVShareChat;
        el.setAttribute('model', url);
        el.setAttribute('max-tokens', String(max));
        const ready = new Promise<CustomEvent<ModelInfo>>((ok) =>
          el.addEventListener('ready', (e) => ok(e as CustomEvent<ModelInfo>), { once: true }),
        );
        document.body.append(el);
        const { config } = (await ready).detail;
        const a = await el.send(q);
        const shown = [...el.shadowRoot!.querySelectorAll('[part~="assistant"]')].map((n) => n.textContent);
        return { a, shown, modelType: config.modelType, gemma: config.gemma !== undefined };
      },
      ['/models/gemma3', QUESTION, MAX_TOKENS] as const,
    );
    expect(r.modelType).toBe('gemma3');
    expect(r.gemma).toBe(true);
    const content = r.a?.content ?? '';
    expect(content.length).toBeGreaterThan(0);
    expect(r.a?.usage?.completion_tokens).toBeGreaterThan(0);
    expect(r.a?.usage?.completion_tokens).toBeLessThanOrEqual(MAX_TOKENS);
    expect(['stop', 'length']).toContain(r.a?.finishReason);
    expect(r.shown).toEqual([content]);
    await page.close();
  });
});
