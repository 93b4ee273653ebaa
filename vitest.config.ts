import { configDefaults, defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The browser suites (e2e/) belong to Playwright (playwright.config.ts), never to vitest.
    exclude: [...configDefaults.exclude, 'e2e/**'],
    // The Dawn addon must load in a forked process, not a worker thread (docs/DESIGN.md, WebGPU without a GPU).
    pool: 'forks',
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
