/**
 * Progress lines of the browser tests, so a CI log is never silent for minutes: every test's start
 * and end (progress-hooks.ts, a setup file of vitest.e2e.config.ts) and the slow steps inside them
 * (starting the dev server and chromium, loading a model, answering), each stamped with the seconds
 * since the test file started.
 */
const started = Date.now();

export function progress(what: string): void {
  console.info(`[e2e ${((Date.now() - started) / 1000).toFixed(1)} s] ${what}`);
}
