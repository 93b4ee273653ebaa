import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChatCompletionChunk, ChatMessage, EngineApi } from '../../src/api/types.ts';
import { createChatApi } from '../../src/engine/chat.ts';
import {
  AbortError,
  ContextOverflowError,
  EmptyPromptError,
  EngineNotLoadedError,
  InvalidArgumentError,
} from '../../src/errors.ts';
import { createNodeEngine, createNodeTokenEngine } from '../../src/node/index.ts';
import { storiesDir } from '../helpers/models.ts';

const engine = createNodeTokenEngine();
const api: EngineApi = createChatApi(engine);
const user = (content: string): ChatMessage[] => [{ role: 'user', content }];

async function collect(stream: AsyncIterable<ChatCompletionChunk>): Promise<ChatCompletionChunk[]> {
  const out: ChatCompletionChunk[] = [];
  for await (const c of stream) out.push(c);
  return out;
}

beforeAll(async () => {
  await api.load(storiesDir(), { contextLength: 256 });
});
afterAll(() => api.unload());

describe('createChatApi (in-thread)', () => {
  it('answers a chat in the OpenAI shape with reuse figures in usage', async () => {
    const r = await api.chat.completions.create({ messages: user('Once upon a time'), max_tokens: 16 });
    expect(r.object).toBe('chat.completion');
    expect(r.id).toMatch(/^chatcmpl-/);
    expect(r.model).toBe('stories260K-hf');
    expect(r.choices).toHaveLength(1);
    expect(r.choices[0].message.role).toBe('assistant');
    expect(r.choices[0].message.content.length).toBeGreaterThan(0);
    expect(r.choices[0].finish_reason).toBe('length');
    const u = r.usage;
    expect(u.prompt_tokens).toBe(engine.chatPromptIds(user('Once upon a time')).length);
    expect(u.completion_tokens).toBe(16);
    expect(u.total_tokens).toBe(u.prompt_tokens + 16);
    expect(u.token_fates).toHaveLength(u.prompt_tokens);
    expect(u.time_to_first_token_ms).toBeGreaterThan(0);
  });

  it('streams chunks whose concatenation is the non-streamed answer; usage on the last chunk', async () => {
    const req = { messages: user('Lily went to the park'), max_tokens: 20, reuse: { mode: 'none' as const } };
    const chunks = await collect(await api.chat.completions.create({ ...req, stream: true }));
    const whole = await api.chat.completions.create(req);
    expect(chunks.length).toBeGreaterThan(2);
    expect(chunks[0].choices[0].delta.role).toBe('assistant');
    expect(chunks.every((c) => c.object === 'chat.completion.chunk' && c.id === chunks[0].id)).toBe(true);
    expect(chunks.slice(0, -1).every((c) => c.choices[0].finish_reason === null && !c.usage)).toBe(true);
    const last = chunks.at(-1)!;
    expect(last.choices[0].finish_reason).toBe(whole.choices[0].finish_reason);
    expect(last.usage?.completion_tokens).toBe(whole.usage.completion_tokens);
    expect(chunks.map((c) => c.choices[0].delta.content).join('')).toBe(whole.choices[0].message.content);
  });

  it('the next turn of a chat reuses the previous turn’s KV', async () => {
    await api.cache.clear();
    const first = user('Tom had a red ball.');
    const a = await api.chat.completions.create({ messages: first, max_tokens: 12 });
    const second: ChatMessage[] = [
      ...first,
      { role: 'assistant', content: a.choices[0].message.content },
      { role: 'user', content: 'Tom was happy.' },
    ];
    const b = await api.chat.completions.create({ messages: second, max_tokens: 8 });
    expect(b.usage.reused_tokens).toBeGreaterThan(0);
    // The previous turn is still in the live KV (in place, no entry patched) unless rows past it were
    // taken from an entry.
    const reusedPrefix = b.usage.token_fates.slice(0, b.usage.reused_tokens);
    if (b.usage.prefill_path === 'prefix') expect(reusedPrefix.every((f) => f === 'reused')).toBe(true);
    else expect(b.usage.entry_ids.length).toBeGreaterThan(0);
    expect((await api.cache.list()).length).toBeGreaterThanOrEqual(2);
    expect((await api.cache.stats()).entries).toBeGreaterThanOrEqual(2);
  });

  it('an aborted signal ends a stream with finish_reason abort; breaking out stops the request', async () => {
    const ac = new AbortController();
    const stream = await api.chat.completions.create({
      messages: user('Once upon a time'),
      max_tokens: 200,
      stream: true,
      signal: ac.signal,
    });
    let n = 0;
    let last: ChatCompletionChunk | undefined;
    for await (const c of stream) {
      last = c;
      if (++n === 3) ac.abort();
    }
    expect(last?.choices[0].finish_reason).toBe('abort');
    expect(n).toBeLessThan(8);
    const broken = await api.chat.completions.create({
      messages: user('Lily'),
      max_tokens: 200,
      stream: true,
    });
    for await (const _ of broken) break;
    const after = await api.chat.completions.create({ messages: user('Lily'), max_tokens: 4 });
    expect(after.usage.completion_tokens).toBe(4);
    await expect(
      api.chat.completions.create({ messages: user('Lily'), signal: AbortSignal.abort() }),
    ).rejects.toBeInstanceOf(AbortError);
  });

  it('bad requests reject at create() with typed errors, streaming or not', async () => {
    const c = api.chat.completions;
    await expect(c.create({ messages: [] })).rejects.toBeInstanceOf(EmptyPromptError);
    await expect(c.create({ messages: user('  '), stream: true })).rejects.toBeInstanceOf(EmptyPromptError);
    const badRole = [{ role: 'robot', content: 'hi' }] as unknown as ChatMessage[];
    await expect(c.create({ messages: badRole })).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(c.create({ messages: user('hi'), temperature: -1, stream: true })).rejects.toBeInstanceOf(
      InvalidArgumentError,
    );
    await expect(c.create({ messages: user('hi'), max_tokens: 1000, stream: true })).rejects.toBeInstanceOf(
      ContextOverflowError,
    );
    const idle = createNodeEngine();
    await expect(idle.chat.completions.create({ messages: user('hi') })).rejects.toBeInstanceOf(
      EngineNotLoadedError,
    );
    expect(await idle.info()).toBeNull();
  });
});
