// Issue 8 regressions of requests: findings 3 (patch bounds), 4 (output guard), 6 (request options,
// codes across the worker) and 7 (cache mutations wait for the request being served).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EngineApi } from '../../src/api/types.ts';
import { wrapEngine } from '../../src/client/remote.ts';
import { createChatApi } from '../../src/engine/chat.ts';
import type { Engine } from '../../src/engine/engine.ts';
import { ARGMAX_NONE, checkStep, withOutputGuard } from '../../src/engine/output-guard.ts';
import { checkPatchShifts } from '../../src/engine/patch-bounds.ts';
import {
  CacheEntryError,
  InternalError,
  InvalidArgumentError,
  type KVShareError,
  NonFiniteOutputError,
} from '../../src/errors.ts';
import { createNodeTokenEngine } from '../../src/node/index.ts';
import { exposeEngine } from '../../src/worker/host.ts';
import { storiesDir } from '../helpers/models.ts';

const engine: Engine = createNodeTokenEngine();
const chat = createChatApi(engine);
const PROMPT = 'Once upon a time, there was a little girl named Lily.';

beforeAll(async () => {
  await engine.load(storiesDir(), { contextLength: 64 });
});
afterAll(() => engine.unload());

describe('request options are InvalidArgumentErrors (finding 6)', () => {
  const bad: [string, unknown, Record<string, unknown>][] = [
    ['a number prompt', 42, {}],
    ['a null prompt', null, {}],
    ['tokenIds with a string', { tokenIds: [1, 'a'] }, {}],
    ['tokenIds past the vocabulary', { tokenIds: [1, 512] }, {}],
    ["stop: 'abc'", PROMPT, { stop: 'abc' }],
    ['stop: [null]', PROMPT, { stop: [null] }],
    ['a fake signal', PROMPT, { signal: {} }],
    ['seed NaN', PROMPT, { seed: Number.NaN }],
    ["seed 'x'", PROMPT, { seed: 'x' }],
    ['maxNewTokens 0', PROMPT, { maxNewTokens: 0 }],
    ['maxNewTokens 2.5', PROMPT, { maxNewTokens: 2.5 }],
    ["temperature 'hot'", PROMPT, { temperature: 'hot' }],
    ['temperature -1', PROMPT, { temperature: -1 }],
    ['topK 1.5', PROMPT, { topK: 1.5 }],
    ["topP '0.5'", PROMPT, { topP: '0.5' }],
    ['topP 0', PROMPT, { topP: 0 }],
    ['stopTokenIds [-1]', PROMPT, { stopTokenIds: [-1] }],
    ["cachePrompt 'yes'", PROMPT, { cachePrompt: 'yes' }],
  ];
  it.each(bad)('generate with %s', async (_, prompt, opts) => {
    await expect(engine.generate(prompt as never, opts as never)).rejects.toBeInstanceOf(
      InvalidArgumentError,
    );
  });

  it('null options', async () => {
    await expect(engine.generate(PROMPT, null as never)).rejects.toBeInstanceOf(InvalidArgumentError);
  });

  const badChat: [string, Record<string, unknown>][] = [
    ['stop: [null]', { stop: [null] }],
    ['stop: 5', { stop: 5 }],
    ["seed: 'x'", { seed: 'x' }],
    ['a fake signal', { signal: { aborted: false } }],
    ["top_k: '3'", { top_k: '3' }],
    ['max_tokens: -2', { max_tokens: -2 }],
  ];
  it.each(badChat)('chat with %s', async (_, extra) => {
    const req = { messages: [{ role: 'user', content: PROMPT }], ...extra };
    await expect(chat.chat.completions.create(req as never)).rejects.toBeInstanceOf(InvalidArgumentError);
  });

  it("stop: 'abc' as a chat string is still accepted (the OpenAI shape)", async () => {
    const r = await chat.chat.completions.create({
      messages: [{ role: 'user', content: PROMPT }],
      stop: 'zzz',
      max_tokens: 3,
    });
    expect(r.choices[0].message.role).toBe('assistant');
  });
});

describe('every error crossing the worker has a code (finding 6)', () => {
  it('a bug of ours arrives as InternalError (INTERNAL) with the original as cause', async () => {
    const broken = {
      ...createChatApi(engine),
      info: async () => {
        throw new TypeError("Cannot read properties of undefined (reading 'x')");
      },
    } as EngineApi;
    const ch = new MessageChannel();
    exposeEngine(broken, ch.port1);
    const client = wrapEngine(ch.port2);
    const err = await client.info().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InternalError);
    expect((err as KVShareError).code).toBe('INTERNAL');
    expect((err as Error).message).toMatch(/TypeError: Cannot read properties/);
    const fake = await client.chat.completions
      .create({ messages: [{ role: 'user', content: 'x' }], signal: {} as AbortSignal })
      .catch((e: unknown) => e);
    expect(fake).toBeInstanceOf(InvalidArgumentError);
    client.terminate();
    ch.port1.close();
    ch.port2.close();
  });
});

describe('cache mutations wait in the request queue (finding 7)', () => {
  it('clear(), delete() and put() issued during a request run after it', async () => {
    await engine.cache.clear();
    const entry = (await engine.cache.get((await engine.cache.add(PROMPT)).id))!;
    const order: string[] = [];
    const gen = engine.generate(`${PROMPT} She`, { maxNewTokens: 8 }).then(() => order.push('generate'));
    const clear = engine.cache.clear().then(() => order.push('clear'));
    const put = engine.cache.put({ ...entry, id: 'again' }).then(() => order.push('put'));
    const del = engine.cache.delete('again').then(() => order.push('delete'));
    await Promise.all([gen, clear, put, del]);
    expect(order).toEqual(['generate', 'clear', 'put', 'delete']);
    expect(engine.cache.list()).toEqual([]);
  });
});

describe('entries against the loaded runner (finding 3)', () => {
  it('put() refuses an entry whose positions lie past the context (the RoPE table rows)', async () => {
    await engine.cache.clear();
    const e = (await engine.cache.get((await engine.cache.add(PROMPT)).id))!;
    const shifted = { ...e, id: 'from-2048', positions: e.positions.map((p) => p + 500) };
    await expect(engine.cache.put(shifted)).rejects.toThrow(CacheEntryError);
    await expect(engine.cache.put(shifted)).rejects.toThrow(/past the context of 64/);
  });
  it('the host-side patch check refuses rows outside the table', () => {
    expect(() => checkPatchShifts([[{ src: 0, dst: 3, old: 63 }]], 64)).not.toThrow();
    expect(() => checkPatchShifts([[{ src: 0, dst: 3, old: 600 }]], 64)).toThrow(InternalError);
    expect(() => checkPatchShifts([[{ src: 0, dst: 64, old: 0 }]], 64)).toThrow(/outside the context of 64/);
  });
});

describe('the output guard (finding 4)', () => {
  it('the argmax sentinel and non-finite logits are NonFiniteOutputErrors, not INVALID_ARGUMENT', () => {
    expect(() => checkStep(ARGMAX_NONE, null, 512)).toThrow(NonFiniteOutputError);
    expect(() => checkStep(ARGMAX_NONE, null, 512)).toThrow(/no finite logit/);
    expect(() => checkStep(3, Float32Array.from([0, Number.NaN, 1]), 512)).toThrow(/non-finite logit NaN/);
    expect(() => checkStep(3, Float32Array.from([0, 2, 1]), 512)).not.toThrow();
  });
  it('without reuse the error stands; with reuse the entries are dropped and the request runs again', async () => {
    const trip = new NonFiniteOutputError('The model produced non-finite logits.');
    const runs: boolean[] = [];
    const dropped: string[][] = [];
    const hooks = (reused: string[], canRestart = true) => ({
      reused: () => reused,
      canRestart: () => canRestart,
      drop: async (ids: string[]) => void dropped.push(ids),
    });
    const run = async (noReuse: boolean) => {
      runs.push(noReuse);
      if (!noReuse) throw trip;
      return 'answer';
    };
    await expect(withOutputGuard(run, hooks([]))).rejects.toBe(trip);
    expect(await withOutputGuard(run, hooks(['e1']))).toBe('answer');
    expect(dropped).toEqual([['e1']]);
    await expect(withOutputGuard(run, hooks(['e2'], false))).rejects.toThrow(/e2 were dropped/);
    expect(runs).toEqual([false, false, true, false]);
  });
});
