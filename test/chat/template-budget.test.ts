// Chat templates run under a budget (issue 20 finding 2): every hostile template gives
// InvalidArgumentError within 2 s and the tokenizer goes on rendering; the range(1e9) template in a
// fresh process grows its peak RSS by at most 200 MB; an engine whose model ships one answers the
// next plain request.
import { execFile } from 'node:child_process';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createChatApi } from '../../src/engine/chat.ts';
import { ContextOverflowError, InvalidArgumentError } from '../../src/errors.ts';
import { createTokenizer, type Tokenizer, type TokenizerFiles } from '../../src/model/tokenizer/tokenizer.ts';
import { createNodeTokenEngine } from '../../src/node/index.ts';
import { GOOD_TEMPLATE, TEMPLATE_BOMBS } from '../helpers/hostile-templates.ts';
import { storiesDir } from '../helpers/models.ts';

const CHAT = [
  { role: 'system' as const, content: 'Be kind.' },
  { role: 'user' as const, content: 'Tell a story.' },
];

let files: TokenizerFiles;
let good: Tokenizer;
beforeAll(async () => {
  const dir = storiesDir();
  files = {
    tokenizerJson: JSON.parse(await readFile(`${dir}/tokenizer.json`, 'utf8')),
    tokenizerConfig: JSON.parse(await readFile(`${dir}/tokenizer_config.json`, 'utf8')),
  };
  good = await createTokenizer({ ...files, chatTemplate: GOOD_TEMPLATE });
});

/**
 * Milliseconds of CPU this test process has used (user + system). The bounds below are on CPU time, not
 * wall time, so that other jobs sharing the machine's cores cannot fail them; the render budget itself
 * is wall clock and stops a bomb sooner under load, never later.
 */
function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

function withTemplate(template: string): Promise<Tokenizer> {
  return createTokenizer({ ...files, chatTemplate: template });
}

describe('hostile templates (category: templates, bombs)', () => {
  it('every bomb is an InvalidArgumentError within 2 s; a good template renders after each', async () => {
    const tally = { tried: 0, wrong: 0, crashed: 0, lost: 0 };
    const slow: string[] = [];
    const want = good.renderChatTemplate(CHAT, { addGenerationPrompt: true });
    for (const [name, template] of TEMPLATE_BOMBS) {
      tally.tried++;
      const t0 = cpuMs();
      try {
        const tok = await withTemplate(template);
        tok.applyChatTemplate(CHAT, { addGenerationPrompt: true });
        tally.wrong++; // rendered: no bomb here is allowed to
      } catch (e) {
        if (!(e instanceof InvalidArgumentError)) tally.crashed++;
      }
      const ms = cpuMs() - t0;
      if (ms > 2000) slow.push(`${name}: ${ms.toFixed(0)} ms`);
      if (good.renderChatTemplate(CHAT, { addGenerationPrompt: true }) !== want) tally.lost++;
    }
    expect(slow).toEqual([]);
    expect(tally).toEqual({ tried: TEMPLATE_BOMBS.length, wrong: 0, crashed: 0, lost: 0 });
  }, 120_000);

  it('the budget messages name what was exceeded', async () => {
    const tok = await withTemplate(TEMPLATE_BOMBS[0][1]);
    expect(() => tok.renderChatTemplate(CHAT)).toThrow(/budget: range\(\) of 1000000000 items/);
  });

  it('messages far past maxChars are refused before rendering (ContextOverflowError)', () => {
    const long = [{ role: 'user' as const, content: 'x'.repeat(5000) }];
    expect(() => good.applyChatTemplate(long, { maxChars: 4096 })).toThrow(ContextOverflowError);
    expect(good.applyChatTemplate(long, { maxChars: 5000 }).length).toBeGreaterThan(0);
  });
});

describe('range(1e9) in a fresh process', () => {
  it('InvalidArgumentError in <= 2 s, peak RSS growth <= 200 MB, the process renders on', async () => {
    const child = join(import.meta.dirname, '../helpers/template-bomb-child.ts');
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', child], {
      env: { ...process.env, KVSHARE_BOMB: TEMPLATE_BOMBS[0][1] },
      timeout: 60_000,
    });
    const r = JSON.parse(stdout.trim().split('\n').at(-1) as string);
    expect(r.error).toBe('InvalidArgumentError');
    expect(r.ms).toBeLessThanOrEqual(2000);
    expect(r.peakGrowthMB).toBeLessThanOrEqual(200);
    expect(r.afterwards).toBe(true);
  }, 90_000);
});

describe('an engine whose model ships a hostile template', () => {
  let dir: string;
  const engine = createNodeTokenEngine();
  const chat = createChatApi(engine);
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kvshare-bomb-'));
    await cp(storiesDir(), dir, { recursive: true });
    const cfg = JSON.parse(await readFile(`${dir}/tokenizer_config.json`, 'utf8'));
    cfg.chat_template = TEMPLATE_BOMBS[0][1];
    await writeFile(`${dir}/tokenizer_config.json`, JSON.stringify(cfg));
    await engine.load(dir, { contextLength: 64 });
  }, 120_000);
  afterAll(async () => {
    await engine.unload();
    await rm(dir, { recursive: true, force: true });
  });

  it('refuses the chat request with InvalidArgumentError and answers the next plain request', async () => {
    const t0 = cpuMs();
    await expect(chat.chat.completions.create({ messages: CHAT, max_tokens: 4 })).rejects.toBeInstanceOf(
      InvalidArgumentError,
    );
    expect(cpuMs() - t0).toBeLessThan(2000);
    const r = await engine.generate('Once upon a time', { maxNewTokens: 4 });
    expect(r.tokenIds.length).toBe(4);
  }, 60_000);

  it('refuses a prompt far past the context before tokenizing it', async () => {
    const t0 = cpuMs();
    await expect(
      engine.generate('Once upon a time '.repeat(200_000), { maxNewTokens: 4 }),
    ).rejects.toBeInstanceOf(ContextOverflowError);
    expect(cpuMs() - t0).toBeLessThan(500);
    // A 2 MB chat message too (this model's template is the bomb: refused before it runs).
    const t1 = cpuMs();
    const long = [{ role: 'user' as const, content: 'x'.repeat(2_000_000) }];
    await expect(chat.chat.completions.create({ messages: long, max_tokens: 4 })).rejects.toBeInstanceOf(
      ContextOverflowError,
    );
    expect(cpuMs() - t1).toBeLessThan(500);
  });
});
