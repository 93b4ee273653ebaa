/**
 * Browser-test harness for the suites that need more than playwright.config.ts gives every test: a
 * Vite dev server of their own (a suite serving models it makes, e.g. a GGUF file or a synthetic chat
 * model), and the browser of the running project (its executable, flags and headless mode) in a
 * persistent context: a profile folder, so IndexedDB survives page reloads and browser restarts.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BrowserContext, type ConsoleMessage, chromium, type Page, test } from '@playwright/test';
import { createServer, type ViteDevServer } from 'vite';
import { CHROMIUM_ARGS_NO_WEBGPU } from './browsers.ts';

const projectRoot = fileURLToPath(new URL('..', import.meta.url));

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

/**
 * Vite with the project config, serving `pagesDir` as root and /models/* from `assets` (default:
 * $KVSHARE_ASSETS or the config's default), offline.
 */
export function startPageServer(pagesDir = 'e2e/pages', assets?: string): Promise<PageServer> {
  return test.step(`start a dev server for ${pagesDir}`, async () => {
    const port = await freePort();
    // The models folder: vite.config.ts reads it as it loads (below). The network check is off for
    // every server of this process (the tests want the offline default, the local model).
    const before = process.env.KVSHARE_ASSETS;
    if (assets !== undefined) process.env.KVSHARE_ASSETS = assets;
    process.env.KVSHARE_OFFLINE = '1';
    try {
      const server: ViteDevServer = await createServer({
        configFile: resolve(projectRoot, 'vite.config.ts'),
        root: resolve(projectRoot, pagesDir),
        server: { host: '127.0.0.1', port, strictPort: true, hmr: false },
        logLevel: 'warn',
        clearScreen: false,
      });
      await server.listen();
      return { origin: `http://127.0.0.1:${port}`, close: () => server.close() };
    } finally {
      if (before === undefined) delete process.env.KVSHARE_ASSETS;
      else process.env.KVSHARE_ASSETS = before;
    }
  });
}

/** A suite's own site: a temp models folder, a dev server per pages folder over it, and a browser. */
export interface Site {
  assets: string;
  /** One per pages folder given to startSite, in its order. */
  servers: PageServer[];
  browser: BrowserSession;
  /** Closes the browser and the servers, then removes the models folder. */
  close(): Promise<void>;
}

/**
 * A temp models folder (`kvshare-<name>-e2e-*`) that `fill` writes, a dev server for each of `pages`
 * serving it at /models/, and a browser. If any step fails, what was started is closed again.
 */
export async function startSite(
  name: string,
  fill: (assets: string) => Promise<void>,
  pages: string[],
): Promise<Site> {
  const assets = await mkdtemp(join(tmpdir(), `kvshare-${name}-e2e-`));
  const servers: PageServer[] = [];
  let browser: BrowserSession | undefined;
  const close = async () => {
    await browser?.close();
    for (const server of servers) await server.close();
    await rm(assets, { recursive: true, force: true });
  };
  try {
    await fill(assets);
    for (const dir of pages) servers.push(await startPageServer(dir, assets));
    browser = await launchBrowser();
    return { assets, servers, browser, close };
  } catch (e) {
    await close();
    throw e;
  }
}

export interface BrowserSession {
  context: BrowserContext;
  page: Page;
  /** console.error calls, uncaught errors and crashes of the page and its workers. */
  errors: string[];
  close(): Promise<void>;
}

export interface LaunchOptions {
  /** WebGPU as the project runs it (default true); false launches with CHROMIUM_ARGS_NO_WEBGPU. */
  webgpu?: boolean;
  /**
   * The profile folder to use. Default: a new temp folder, removed on close. A folder given here is
   * kept on close, so a second launch with it finds the same IndexedDB; the caller removes it.
   */
  profileDir?: string;
}

/** The running project's browser (playwright.config.ts) in a persistent context; call in a test or hook. */
export function launchBrowser(opts: LaunchOptions = {}): Promise<BrowserSession> {
  const project = test.info().project.use;
  const launch = project.launchOptions ?? {};
  return test.step(`launch ${project.browserName ?? 'chromium'}${opts.webgpu === false ? ' without WebGPU' : ''}`, async () => {
    const ownProfile = opts.profileDir === undefined;
    const profile = opts.profileDir ?? (await mkdtemp(join(tmpdir(), 'kvshare-e2e-')));
    const context = await chromium.launchPersistentContext(profile, {
      ...launch,
      headless: project.headless ?? true,
      args: opts.webgpu === false ? CHROMIUM_ARGS_NO_WEBGPU : launch.args,
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
  });
}
