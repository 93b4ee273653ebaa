// The demo's Documents panel in headless chromium: mount the sample pack that `npm start` serves
// (assets/packs, built by `kvshare pack build`), ask over 3 of its documents, and see which entries were
// reused and that only the index and those entries were fetched. Saves a screenshot of the panel in
// test-results/screenshots/documents-panel.png (the copy in docs/screenshots/ is one of them).
import { mkdir, readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, test } from '@playwright/test';
import { DemoDriver } from './demo-driver.ts';
import { type BrowserSession, launchBrowser, type PageServer, startPageServer } from './harness.ts';

const projectRoot = fileURLToPath(new URL('..', import.meta.url));
const SHOTS = resolve(projectRoot, 'test-results/screenshots');
const PACK = resolve(projectRoot, 'assets/packs/stories260K-tales.kvpack');

test.describe.configure({ mode: 'serial' });

let server: PageServer;
let browser: BrowserSession;
let demo: DemoDriver;

test.beforeAll(async () => {
  server = await startPageServer('demo');
  browser = await launchBrowser();
  await browser.page.setViewportSize({ width: 1280, height: 1000 });
  demo = new DemoDriver(browser.page);
  await demo.open(server.origin);
});

test.afterAll(async () => {
  await browser?.close();
  await server?.close();
});

test('the Documents panel mounts the sample pack and shows which documents a question reused', async () => {
  const page = browser.page;
  expect(await demo.load('stories260K-hf')).toBe('ready');
  // The pack's own layout: the index ends where the first entry starts; entry lengths from the index.
  const pack = new Uint8Array(await readFile(PACK));
  const dv = new DataView(pack.buffer, pack.byteOffset);
  const indexBytes = 88 + dv.getUint32(80, true);

  await page.getByTestId('docs-mount').click();
  await expect(page.getByTestId('docs-status')).toHaveAttribute('data-mounted', '8', { timeout: 60_000 });
  await expect(page.getByTestId('docs-status')).toContainText('fetched the index only');
  await expect(page.getByTestId('docs-list').locator('li')).toHaveCount(8);

  await demo.setSettings({ maxTokens: 16, temperature: 0 });
  const done = await demo.counter('answers');
  await page.getByTestId('docs-ask').click();
  await demo.waitCounter('answers', done + 1);
  const reused = page.getByTestId('docs-reused');
  await expect(reused).toHaveAttribute('data-ids', /.+/);
  const ids = ((await reused.getAttribute('data-ids')) ?? '').split(',');
  // The three documents checked by default (the first three), each reused from its own entry.
  expect(new Set(ids)).toEqual(new Set(['lily-and-the-dog', 'tom-and-the-shells', 'ben-the-bunny']));
  const fetched = Number(await reused.getAttribute('data-fetched-bytes'));
  // Index + three entries (each ~58 KB of f16 K/V): far less than the whole pack.
  expect(fetched).toBeGreaterThan(indexBytes);
  expect(fetched).toBeLessThan(indexBytes + (1.1 * 3 * (pack.length - indexBytes)) / 8 + 3 * 4096);
  const answer = await demo.readAnswer(0);
  expect(answer.badge?.reused).toBeGreaterThan(0);
  await mkdir(SHOTS, { recursive: true });
  await page.screenshot({ path: resolve(SHOTS, 'documents-panel.png'), fullPage: true });
  expect(browser.errors).toEqual([]);
});
