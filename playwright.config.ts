/**
 * The browser suites (e2e/*.e2e.test.ts) on @playwright/test: `npx playwright test` (or `npm run
 * test:e2e`). Two Vite dev servers (this repo's vite.config.ts) start first: the chat demo (demo/)
 * and the test pages (e2e/pages/), both offline (the local models). Suites that need models of their
 * own (a GGUF file, a synthetic chat model) or a built app start their own server (e2e/harness.ts).
 *
 * Projects: `swiftshader` (the default) runs Debian's chromium with WebGPU on SwiftShader, no GPU
 * needed and no browser downloaded; `gpu` runs a Chrome/Chromium with WebGPU on a real GPU and is
 * only defined when KVSHARE_GPU_CHROME names its executable:
 * `KVSHARE_GPU_CHROME=/usr/bin/google-chrome npx playwright test --project gpu`.
 */
import { defineConfig } from '@playwright/test';
import { CHROMIUM, CHROMIUM_ARGS, GPU_CHROME_ARGS } from './e2e/browsers.ts';
import { DEMO_PORT, PAGES_PORT } from './e2e/servers.ts';

const vite = 'node node_modules/vite/bin/vite.js --host 127.0.0.1 --strictPort --config vite.config.ts';
/** Offline (the local default model), no HMR (a file saved mid-run must not reload a page under test). */
const serverEnv = { KVSHARE_OFFLINE: '1', KVSHARE_NO_HMR: '1' };
const gpuChrome = process.env.KVSHARE_GPU_CHROME;

export default defineConfig({
  testDir: 'e2e',
  testMatch: '**/*.e2e.test.ts',
  // The suites share one browser per file and go step by step (test.describe.configure serial).
  workers: 1,
  fullyParallel: false,
  timeout: 300_000,
  expect: { timeout: 10_000 },
  // Under test-results/, beside the screenshots the suites write (test-results/screenshots/), which
  // Playwright must not wipe at start.
  outputDir: 'test-results/playwright',
  reporter: [
    // One line per test and per step as each ends: CI never sits silent for minutes.
    ['list', { printSteps: true }],
    ['html', { open: 'never', outputFolder: 'playwright-report' }],
  ],
  use: {
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
  },
  webServer: [
    {
      command: `${vite} --port ${DEMO_PORT}`,
      url: `http://127.0.0.1:${DEMO_PORT}/`,
      env: serverEnv,
      reuseExistingServer: false,
      timeout: 120_000,
    },
    {
      command: `${vite} --port ${PAGES_PORT} e2e/pages`,
      url: `http://127.0.0.1:${PAGES_PORT}/`,
      env: serverEnv,
      reuseExistingServer: false,
      timeout: 120_000,
    },
  ],
  projects: [
    {
      name: 'swiftshader',
      use: {
        browserName: 'chromium',
        headless: true,
        launchOptions: { executablePath: CHROMIUM, args: CHROMIUM_ARGS },
      },
    },
    ...(gpuChrome
      ? [
          {
            name: 'gpu',
            use: {
              browserName: 'chromium' as const,
              headless: true,
              launchOptions: { executablePath: gpuChrome, args: GPU_CHROME_ARGS },
            },
          },
        ]
      : []),
  ],
});
