// Setup file of vitest.e2e.config.ts: a progress line (progress.ts) as each test starts and ends.
import { afterEach, beforeEach } from 'vitest';
import { progress } from './progress.ts';

beforeEach((ctx) => {
  progress(`▶ ${ctx.task.name}`);
});

afterEach((ctx) => {
  const ms = ctx.task.result?.startTime === undefined ? null : Date.now() - ctx.task.result.startTime;
  progress(`■ ${ctx.task.name}${ms === null ? '' : ` (${(ms / 1000).toFixed(1)} s)`}`);
});
