import { defineConfig } from 'vitest/config';

// Browser tests (e2e/): headless Debian chromium with WebGPU on SwiftShader, pages served by Vite.
export default defineConfig({
  test: {
    include: ['e2e/**/*.e2e.test.ts'],
    // A progress line as each test starts and ends (e2e/progress.ts): CI never sits silent for minutes.
    setupFiles: ['e2e/progress-hooks.ts'],
    pool: 'forks',
    fileParallelism: false,
    testTimeout: 300_000,
    hookTimeout: 300_000,
  },
});
