import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { goldenPath, storiesDir } from '../helpers/models.ts';

const bin = fileURLToPath(new URL('../../bin/kvshare.js', import.meta.url));
const golden = JSON.parse(readFileSync(goldenPath(), 'utf8'));

function kvshare(...args: string[]) {
  return spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', timeout: 120_000 });
}

describe('kvshare CLI', () => {
  it('generate prints the golden greedy story (only the continuation) and names the adapter', () => {
    const r = kvshare(
      'generate',
      '--model',
      storiesDir(),
      '--prompt',
      'Once upon a time',
      '--max-new-tokens',
      '64',
      '--temperature',
      '0',
    );
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/adapter: /);
    expect(`Once upon a time${r.stdout.replace(/\n$/, '')}`).toBe(golden.greedy_64_after_prompt.text);
  });

  it('generate --json prints text, token ids, prompt tokens and stats', () => {
    const r = kvshare(
      'generate',
      '--model',
      storiesDir(),
      '--prompt',
      'Once upon a time',
      '--max-new-tokens',
      '16',
      '--json',
    );
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.promptTokens).toEqual([1, 403, 407, 261, 378]);
    expect(out.tokenIds).toEqual(golden.greedy_64_after_prompt.ids.slice(0, 16));
    expect(out.stats.ttftMs).toBeGreaterThan(0);
  });

  it('bench prints prefill and decode tokens/s', () => {
    const r = kvshare(
      'bench',
      '--model',
      storiesDir(),
      '--prompt-tokens',
      '32',
      '--new-tokens',
      '8',
      '--json',
    );
    expect(r.status).toBe(0);
    const row = JSON.parse(r.stdout.trim().split('\n').pop()!);
    expect(row.prefillTokensPerSec).toBeGreaterThan(0);
    expect(row.decodeTokensPerSec).toBeGreaterThan(0);
    expect(row.newTokens).toBe(8);
    expect(row.weightBytes).toBeGreaterThan(0);
  });

  it('errors are typed and exit non-zero', () => {
    const empty = kvshare('generate', '--model', storiesDir(), '--prompt', '');
    expect(empty.status).toBe(1);
    expect(empty.stderr).toMatch(/EMPTY_PROMPT|--prompt is required/);
    const over = kvshare('generate', '--model', storiesDir(), '--prompt', 'Once', '--max-new-tokens', '600');
    expect(over.status).toBe(1);
    expect(over.stderr).toMatch(/CONTEXT_OVERFLOW/);
    const missing = kvshare('generate', '--model', '/nonexistent', '--prompt', 'x');
    expect(missing.stderr).toMatch(/MODEL_FILE_MISSING/);
    expect(kvshare('frobnicate').status).toBe(2);
  });
});
