import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The Dawn addon must load in a forked process, not a worker thread (docs/DESIGN.md, WebGPU without a GPU).
    pool: 'forks',
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
