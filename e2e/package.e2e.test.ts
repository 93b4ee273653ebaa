// Issues 12 and 22: the package as an app outside this repo gets it. `npm pack` (which builds it), the
// tarball installed into a fresh temporary app (npm, preferring its cache: no network but the
// registry, no environment variables), then there: (i) the install ran no install script and its
// node_modules is under 30 MB, without `webgpu`; (e) kvshare-web/node says to `npm install webgpu`;
// (c) after that install, createNodeEngine() in Node gives the golden stories260K text; (d) a consumer
// file type-checks against the shipped .d.ts; (b) <kvshare-chat> loads from the built files on a plain
// static server; (a) a page calling createEngine() is bundled by Vite (no .wasm, no file over 2 MB)
// and answers in chromium. The fixture app is e2e/packed-app/. Each phase is a test step (it takes
// minutes); the install's time and size and the build's size are printed.
import { execFile } from 'node:child_process';
import { cp, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect, type Page, test } from '@playwright/test';
import { build, type PreviewServer, preview } from 'vite';
import { goldenPath, storiesDir } from '../test/helpers/models.ts';
import { type BrowserSession, freePort, launchBrowser } from './harness.ts';

const run = promisify(execFile);
const projectRoot = fileURLToPath(new URL('..', import.meta.url));
const fixture = resolve(projectRoot, 'e2e/packed-app');
const MB = 2 ** 20;

test.describe.configure({ mode: 'serial' });

let work: string;
let app: string;
let server: PreviewServer;
let browser: BrowserSession;
let origin: string;

test.beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'kvshare-package-'));
  app = join(work, 'app');
  const tarball = await test.step('npm pack (runs npm run build)', async () => {
    await run('npm', ['pack', '--pack-destination', work], { cwd: projectRoot });
    const file = (await readdir(work)).find((f) => f.endsWith('.tgz'));
    if (!file) throw new Error(`npm pack wrote no .tgz into ${work}`);
    return file;
  });
  await cp(fixture, app, { recursive: true });
  await writeFile(
    join(app, 'package.json'),
    JSON.stringify({ name: 'consumer', private: true, type: 'module' }),
  );
  await test.step(`npm install ${tarball} into a fresh app`, async () => {
    const started = performance.now();
    await run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', join(work, tarball)], {
      cwd: app,
    });
    const files = await filesUnder(join(app, 'node_modules'));
    console.info(
      `installed in ${((performance.now() - started) / 1000).toFixed(1)} s: node_modules ${(sum(files) / MB).toFixed(1)} MB in ${files.length} files`,
    );
  });
});

test.afterAll(async () => {
  await browser?.close();
  await server?.close();
  if (work) await rm(work, { recursive: true, force: true });
});

test.describe('the packed tarball in a fresh app', () => {
  test('(i) the install runs no install script, leaves webgpu out and stays under 30 MB', async () => {
    const lock = JSON.parse(await readFile(join(app, 'package-lock.json'), 'utf8'));
    const packages = Object.entries(lock.packages as Record<string, { hasInstallScript?: boolean }>);
    expect(packages.filter(([, p]) => p.hasInstallScript).map(([name]) => name)).toEqual([]);
    expect(packages.map(([name]) => name)).not.toContain('node_modules/webgpu');
    expect(packages.length).toBeGreaterThan(3); // the dependencies are there
    const files = await filesUnder(join(app, 'node_modules'));
    expect(sum(files)).toBeLessThan(30 * MB);
    expect(files.filter((f) => f.path.endsWith('.wasm')).map((f) => f.path)).toEqual([]);
  });

  test('(e) kvshare-web/node without webgpu: a typed error that names the package and its install command', async () => {
    const { stdout } = await run(process.execPath, ['node-no-webgpu.mjs', storiesDir()], { cwd: app });
    const r = JSON.parse(stdout);
    expect(r).toMatchObject({
      name: 'WebGPUUnavailableError',
      code: 'WEBGPU_UNAVAILABLE',
      isKVShareError: true,
    });
    expect(r.message).toContain('`npm install webgpu`');
  });

  test('(c) createNodeEngine() (EngineApi) and createNodeTokenEngine() from kvshare-web/node give the golden greedy story', async () => {
    await test.step('npm install webgpu', () =>
      run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', 'webgpu'], { cwd: app }));
    const golden = JSON.parse(await readFile(goldenPath(), 'utf8'));
    const { stdout } = await run(process.execPath, ['node-golden.mjs', storiesDir(), golden.prompt], {
      cwd: app,
    });
    const r = JSON.parse(stdout);
    expect(r.tokenIds).toEqual(golden.greedy_64_after_prompt.ids);
    expect(`${golden.prompt}${r.text}`).toBe(golden.greedy_64_after_prompt.text);
  });

  test('(d) a consumer file type-checks against the shipped types (stream: true narrows)', async () => {
    const tsc = resolve(projectRoot, 'node_modules/typescript/bin/tsc');
    const r = await run(process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: app }).catch((e) => e);
    expect(`${r.stdout}${r.stderr ?? ''}`.trim()).toBe('');
  });

  test('(b) <kvshare-chat> from node_modules/kvshare-web/dist-component on a plain static server answers', async () => {
    // (a)'s bundle, built now so that one static server serves both pages.
    await test.step("vite build of (a)'s page", () =>
      build({
        configFile: false,
        root: app,
        base: './',
        logLevel: 'warn',
        build: { outDir: join(app, 'page'), emptyOutDir: true, target: 'es2022' },
        worker: { format: 'es' },
      }));
    // No .wasm and nothing over 2 MB in the app's build.
    const built = await filesUnder(join(app, 'page'));
    const largest = built.reduce((a, b) => (b.size > a.size ? b : a));
    console.info(
      `(a) the build: ${built.length} files, ${(sum(built) / MB).toFixed(2)} MB, largest ${largest.path} ${(largest.size / MB).toFixed(2)} MB`,
    );
    expect(built.filter((f) => f.path.endsWith('.wasm')).map((f) => f.path)).toEqual([]);
    expect(largest.size).toBeLessThan(2 * MB);
    expect(built.some((f) => /worker-[\w-]+\.js$/.test(f.path))).toBe(true);
    const port = await freePort();
    // Static files of the app folder (no transforms), plus /models/* from the project config.
    server = await preview({
      configFile: resolve(projectRoot, 'vite.config.ts'),
      build: { outDir: app },
      preview: { host: '127.0.0.1', port, strictPort: true },
      logLevel: 'warn',
    });
    origin = `http://127.0.0.1:${port}`;
    browser = await launchBrowser();
    const page = await browser.context.newPage();
    try {
      await page.goto(`${origin}/component.html`);
      const answer = await page.evaluate(async () => {
        const el = document.querySelector('kvshare-chat') as HTMLElement & {
          send(text: string): Promise<{ content: string } | null>;
        };
        await new Promise<void>((ok, fail) => {
          el.addEventListener('ready', () => ok(), { once: true });
          el.addEventListener(
            'error',
            (e) => fail(new Error(JSON.stringify((e as Event & { detail?: unknown }).detail))),
            {
              once: true,
            },
          );
        });
        return (await el.send('Tom had a dog'))?.content ?? '';
      });
      expect(answer.length).toBeGreaterThan(0);
      expect(workerPaths(page)).toEqual([
        expect.stringMatching(/^\/node_modules\/kvshare-web\/dist-component\/assets\/worker-[\w-]+\.js$/),
      ]);
      expect(browser.errors).toEqual([]);
    } finally {
      await page.close();
    }
  });

  test('(a) a page calling createEngine(), bundled by Vite from the package, streams an answer', async () => {
    const page = await browser.context.newPage();
    try {
      await page.goto(`${origin}/page/index.html`);
      const r = await page.evaluate(
        () => (window as unknown as { packedResult: Promise<unknown> }).packedResult,
      );
      expect(r).toMatchObject({
        adapter: expect.any(String),
        chunks: expect.any(Number),
        text: expect.any(String),
      });
      const { chunks, text } = r as { chunks: number; text: string };
      expect(chunks).toBeGreaterThan(1);
      expect(text.length).toBeGreaterThan(0);
      expect(workerPaths(page)).toEqual([expect.stringMatching(/^\/page\/assets\/worker-[\w-]+\.js$/)]);
      expect(browser.errors).toEqual([]);
    } finally {
      await page.close();
    }
  });
});

/** Every file under `dir` (links not followed) with its size. */
async function filesUnder(dir: string): Promise<{ path: string; size: number }[]> {
  const out: { path: string; size: number }[] = [];
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!e.isFile()) continue;
    const path = join(e.parentPath, e.name);
    out.push({ path, size: (await stat(path)).size });
  }
  return out;
}

function sum(files: { size: number }[]): number {
  return files.reduce((a, f) => a + f.size, 0);
}

function workerPaths(page: Page): string[] {
  return page.workers().map((w) => new URL(w.url()).pathname);
}
