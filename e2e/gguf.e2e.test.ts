// A GGUF file loaded by URL in headless chromium (engine in a module worker, SwiftShader): header and
// tensors read with range requests from the dev server, the tokenizer built from tokenizer.ggml.*
// (no tokenizer.json beside the file). stories260K as F32 GGUF must give the safetensors model's
// fingerprint and answer.
import { cp } from 'node:fs/promises';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import type { ChatMessage } from '../src/api/types.ts';
import { writeStoriesGguf } from '../test/helpers/gguf-writer-models.ts';
import { storiesDir } from '../test/helpers/models.ts';
import { type BrowserSession, type PageServer, type Site, startSite } from './harness.ts';
import type { ChatRequest } from './pages/e2e-api.ts';

const user = (content: string): ChatMessage[] => [{ role: 'user', content }];

test.describe.configure({ mode: 'serial' });

let site: Site | undefined;
let server: PageServer;
let browser: BrowserSession;

test.beforeAll(async () => {
  // Its own dev server, serving at /models/ the stories folder and a GGUF folder without tokenizer files.
  site = await startSite(
    'gguf',
    async (assets) => {
      await cp(storiesDir(), join(assets, 'stories260K-hf'), { recursive: true });
      await writeStoriesGguf(join(assets, 'stories-gguf'), ['F32'], false);
    },
    ['e2e/pages'],
  );
  ({
    browser,
    servers: [server],
  } = site);
  await browser.page.goto(`${server.origin}/`);
  await browser.page.waitForFunction(() => 'kvshareE2E' in window, null, { timeout: 120_000 });
});

test.afterAll(async () => site?.close());

test.describe('GGUF in the browser', () => {
  test("stories260K as F32 GGUF by URL: the safetensors model's fingerprint and greedy answer", async () => {
    const req: ChatRequest = { messages: user('Once upon a time'), max_tokens: 16, temperature: 0 };
    const load = (u: string) =>
      browser.page.evaluate(([url]) => window.kvshareE2E.load(url, 128), [u] as const);
    const complete = () => browser.page.evaluate((q) => window.kvshareE2E.complete(q), req);
    const st = await load('/models/stories260K-hf');
    const stAnswer = await complete();
    const gguf = await load('/models/stories-gguf/stories-F32.gguf');
    expect(gguf.info.location).toBe(`${server.origin}/models/stories-gguf/stories-F32.gguf`);
    expect(gguf.lastKind).toBe('ready');
    expect(gguf.monotonic).toBe(true);
    expect(gguf.info.fingerprint).toBe(st.info.fingerprint);
    const answer = await complete();
    expect(answer.choices[0].message.content.length).toBeGreaterThan(0);
    expect(answer.choices[0].message.content).toBe(stAnswer.choices[0].message.content);
    expect(browser.errors).toEqual([]);
  });
});
