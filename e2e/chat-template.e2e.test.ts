// The chat demo and <kvshare-chat> in headless chromium on a Qwen-shaped synthetic model with the
// real Qwen tokenizer (151,936-token vocabulary, ChatML template) and a planted greedy reply: the
// template as rendered in the worker, <|im_end|> ending the answer unseen, and the reuse badge when
// a second conversation repeats the system prompt.
import { basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, test } from '@playwright/test';
import type { KVShareChat } from '../src/component/index.ts';
import { type ChatMessage, loadTokenizer, type Tokenizer } from '../src/model/tokenizer/tokenizer.ts';
import { chatModelDir, REPLY } from '../test/chat/models.ts';
import { DemoDriver } from './demo-driver.ts';
import { type BrowserSession, type PageServer, type Site, startSite } from './harness.ts';

const projectRoot = fileURLToPath(new URL('..', import.meta.url));
const SYSTEM = 'You are the help desk of a public library.';
const Q1 = 'When do you open on Sundays?';
const Q2 = 'Can I print documents there?';
const chat = (q: string): ChatMessage[] => [
  { role: 'system', content: SYSTEM },
  { role: 'user', content: q },
];

/** Each test loads the 39 MB model and its 11 MB tokenizer on SwiftShader: allow more than the default. */
const SLOW = 480_000;

function commonPrefix(a: number[], b: number[]): number {
  let n = 0;
  while (n < a.length && n < b.length && a[n] === b[n]) n++;
  return n;
}

test.describe.configure({ mode: 'serial' });

let site: Site | undefined;
let model: string;
let tokenizer: Tokenizer;
let demoServer: PageServer;
let pagesServer: PageServer;
let browser: BrowserSession;

test.beforeAll(async () => {
  // Its own dev servers, serving at /models/ a temp folder that holds only the synthetic model.
  site = await startSite(
    'chat',
    async (assets) => {
      const dir = await chatModelDir('qwen', assets);
      model = basename(dir);
      tokenizer = await loadTokenizer(dir);
    },
    ['demo', 'e2e/pages'],
  );
  ({
    browser,
    servers: [demoServer, pagesServer],
  } = site);
});

test.afterAll(async () => site?.close());

test.describe('chat template, stop token and system-prompt reuse in the browser (Qwen tokenizer)', () => {
  test('the demo renders the ChatML template, stops at <|im_end|> and reuses a repeated system prompt', async () => {
    test.setTimeout(SLOW);
    const demo = new DemoDriver(browser.page);
    // ?model= loads that model by itself.
    expect(await demo.open(demoServer.origin, `?model=${model}`)).toBe('ready');
    await browser.page.getByTestId('system-prompt').fill(SYSTEM);

    const first = await demo.ask(Q1, { maxTokens: 12, temperature: 0, reuseMode: 'prefix' });
    expect(first.text).toBe(REPLY);
    expect(first.finish).toBe('stop');
    expect(first.badge?.completion).toBe(tokenizer.encode(REPLY, { addSpecialTokens: false }).length);
    // The reuse map's pieces read as the template rendered in Node, special tokens and all (the map
    // shows line breaks as '↵').
    const rendered = tokenizer.renderChatTemplate(chat(Q1), { addGenerationPrompt: true });
    expect(first.mapText).toBe(rendered.replaceAll('\n', '↵'));
    expect(first.badge?.prompt).toBe(
      tokenizer.applyChatTemplate(chat(Q1), { addGenerationPrompt: true }).length,
    );
    expect(first.badge?.reused).toBe(0);

    // A new conversation (earlier turns are off by default) with the same system prompt.
    const second = await demo.ask(Q2, { maxTokens: 12 });
    const shared = commonPrefix(
      tokenizer.applyChatTemplate(chat(Q1), { addGenerationPrompt: true }),
      tokenizer.applyChatTemplate(chat(Q2), { addGenerationPrompt: true }),
    );
    const systemPart = tokenizer.encode(`<|im_start|>system\n${SYSTEM}<|im_end|>\n<|im_start|>user\n`, {
      addSpecialTokens: false,
    }).length;
    expect(shared).toBeGreaterThanOrEqual(systemPart);
    expect(second.badge?.reused).toBe(shared);
    expect(second.fates.slice(0, shared).every((f) => f === 'reused')).toBe(true);
    expect(second.badge?.text).toMatch(new RegExp(`^reused ${shared} · `));
    expect(second.text).toBe(REPLY);
    expect(browser.errors).toEqual([]);
  });

  test('<kvshare-chat> with a system-prompt answers with the planted reply and reuses the system prompt', async () => {
    test.setTimeout(SLOW);
    const page = await browser.context.newPage();
    // The steps below run in one evaluate of minutes: the page reports each (a line on the console).
    await page.exposeFunction('e2eProgress', (what: string) => console.info(`page: ${what}`));
    await page.goto(`${pagesServer.origin}/index.html`);
    // What a site's one <script type="module"> does (from source, through Vite).
    await page.addScriptTag({
      type: 'module',
      content: `import '/@fs${projectRoot}src/component/index.ts';`,
    });
    await page.waitForFunction(() => customElements.get('kvshare-chat') !== undefined);
    const r = await page.evaluate(
      async ([url, system, q1, q2]) => {
        const say = (window as unknown as { e2eProgress: (what: string) => Promise<void> }).e2eProgress;
        const add = async () => {
          const el = document.createElement('kvshare-chat') as KVShareChat;
          el.setAttribute('model', url);
          el.setAttribute('system-prompt', system);
          el.setAttribute('max-tokens', '12');
          const ready = new Promise((ok) => el.addEventListener('ready', ok, { once: true }));
          document.body.append(el);
          await say('<kvshare-chat> loading its model');
          await ready;
          await say('<kvshare-chat> ready');
          return el;
        };
        const el = await add();
        const a = await el.send(q1);
        await say('first answer done');
        const b = await el.send(q2);
        await say('second answer done');
        const shown = [...el.shadowRoot!.querySelectorAll('[part~="assistant"]')].map((n) => n.textContent);
        // A second chat on the page: a new conversation with the same system prompt, same engine.
        const other = await add();
        const c = await other.send(q2);
        await say('the second chat answered');
        return { a, b, c, shown, status: el.shadowRoot!.querySelector('[part="status"]')?.textContent };
      },
      [`/models/${model}`, SYSTEM, Q1, Q2] as const,
    );
    expect(r.a?.content).toBe(REPLY);
    expect(r.a?.finishReason).toBe('stop');
    expect(r.shown).toEqual([REPLY, REPLY]);
    // The second question is asked with the conversation so far: it reuses all of the first turn.
    const turn2: ChatMessage[] = [
      ...chat(Q1),
      { role: 'assistant', content: REPLY },
      { role: 'user', content: Q2 },
    ];
    const ids = tokenizer.applyChatTemplate(turn2, { addGenerationPrompt: true });
    expect(r.b?.usage?.prompt_tokens).toBe(ids.length);
    const firstTurn = tokenizer.applyChatTemplate(chat(Q1), { addGenerationPrompt: true }).length;
    expect(r.b?.usage?.reused_tokens).toBeGreaterThanOrEqual(firstTurn);
    expect(r.status).toMatch(/reused \d+ of \d+ prompt tokens/);
    const systemPart = tokenizer.encode(`<|im_start|>system\n${SYSTEM}<|im_end|>\n<|im_start|>user\n`, {
      addSpecialTokens: false,
    }).length;
    expect(r.c?.content).toBe(REPLY);
    expect(r.c?.usage?.reused_tokens).toBeGreaterThanOrEqual(systemPart);
    await page.close();
  });
});
