/**
 * Browser-test harness: Vite (this repo's vite.config.ts with root e2e/pages) on a free localhost
 * port, and Debian's chromium (never a downloaded browser) with WebGPU on SwiftShader, driven by
 * playwright-core in a persistent context (a temp profile, so IndexedDB survives page reloads).
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BrowserContext, type ConsoleMessage, chromium, type Page } from 'playwright-core';
import { createServer, type ViteDevServer } from 'vite';
import { progress } from './progress.ts';

const projectRoot = fileURLToPath(new URL('..', import.meta.url));

export const CHROMIUM = process.env.KVSHARE_CHROMIUM ?? '/usr/bin/chromium';

export const CHROMIUM_ARGS = [
  '--enable-unsafe-webgpu',
  '--enable-features=Vulkan',
  '--use-vulkan=swiftshader',
  '--use-webgpu-adapter=swiftshader',
  '--no-sandbox',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

export async function freePort(): Promise<number> {
  const srv = createNetServer();
  await new Promise<void>((ok, fail) => {
    srv.once('error', fail);
    srv.listen(0, '127.0.0.1', ok);
  });
  const address = srv.address();
  await new Promise<void>((ok) => srv.close(() => ok()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

export interface PageServer {
  /** e.g. http://127.0.0.1:41234 (a secure context, as WebGPU requires). */
  origin: string;
  close(): Promise<void>;
}

/** Vite with the project config, serving `pagesDir` as root (plus /models/* from the assets). */
export async function startPageServer(pagesDir = 'e2e/pages'): Promise<PageServer> {
  const port = await freePort();
  progress(`starting the dev server for ${pagesDir}`);
  const server: ViteDevServer = await createServer({
    configFile: resolve(projectRoot, 'vite.config.ts'),
    root: resolve(projectRoot, pagesDir),
    server: { host: '127.0.0.1', port, strictPort: true, hmr: false },
    logLevel: 'warn',
    clearScreen: false,
  });
  await server.listen();
  return { origin: `http://127.0.0.1:${port}`, close: () => server.close() };
}

export interface BrowserSession {
  context: BrowserContext;
  page: Page;
  /** console.error calls, uncaught errors and crashes of the page and its workers. */
  errors: string[];
  close(): Promise<void>;
}

/**
 * Chromium with WebGPU switched off: no WebGPU flags, and the feature disabled. Debian's chromium
 * then still has `navigator.gpu`, but `requestAdapter()` resolves to null (checked on chromium 156).
 */
export const CHROMIUM_ARGS_NO_WEBGPU = [
  '--disable-features=WebGPU',
  '--no-sandbox',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

export interface LaunchOptions {
  /** WebGPU on SwiftShader (default true); false launches with CHROMIUM_ARGS_NO_WEBGPU. */
  webgpu?: boolean;
  /**
   * The profile folder to use. Default: a new temp folder, removed on close. A folder given here is
   * kept on close, so a second launch with it finds the same IndexedDB; the caller removes it.
   */
  profileDir?: string;
}

export async function launchBrowser(opts: LaunchOptions = {}): Promise<BrowserSession> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `no chromium at ${CHROMIUM}: apt-get install chromium (see .ci/run), or set KVSHARE_CHROMIUM`,
    );
  }
  progress(`launching chromium${opts.webgpu === false ? ' without WebGPU' : ''}`);
  const ownProfile = opts.profileDir === undefined;
  const profile = opts.profileDir ?? (await mkdtemp(join(tmpdir(), 'kvshare-e2e-')));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: opts.webgpu === false ? CHROMIUM_ARGS_NO_WEBGPU : CHROMIUM_ARGS,
  });
  const page = context.pages()[0] ?? (await context.newPage());
  const errors: string[] = [];
  const seen = new Set<ConsoleMessage>();
  const onConsole = (where: string) => (msg: ConsoleMessage) => {
    if (msg.type() !== 'error' || seen.has(msg)) return;
    seen.add(msg);
    const at = msg.location().url;
    errors.push(`${where} console.error: ${msg.text()}${at ? ` (${at})` : ''}`);
  };
  page.on('console', onConsole('page'));
  page.on('pageerror', (e) => errors.push(`page error: ${e.message}`));
  page.on('crash', () => errors.push('page crashed'));
  page.on('worker', (w) => w.on('console', onConsole(`worker ${w.url()}`)));
  return {
    context,
    page,
    errors,
    async close() {
      await context.close();
      if (ownProfile) await rm(profile, { recursive: true, force: true });
    },
  };
}
