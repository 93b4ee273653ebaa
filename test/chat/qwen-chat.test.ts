// The chat path on a Qwen2-shaped synthetic model with the real Qwen tokenizer (151,936-row vocab):
// the ChatML template into the engine, <|im_end|> ending the answer, reuse of a shared system prompt
// and of the previous turn, sampling over the full vocabulary.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChatCompletionChunk, ChatMessage, EngineApi } from '../../src/api/types.ts';
import { createChatApi } from '../../src/engine/chat.ts';
import type { EngineHooks } from '../../src/engine/hooks.ts';
import { evalPrompt } from '../../src/eval/chat.ts';
import { evalReuse } from '../../src/eval/eval-reuse.ts';
import { createNodeTokenEngine } from '../../src/node/index.ts';
import { askFollowUp, chatModelDir, REPLY } from './models.ts';

const hooks: EngineHooks = {};
const engine = createNodeTokenEngine(hooks);
const api: EngineApi = createChatApi(engine);
const SYSTEM: ChatMessage = {
  role: 'system',
  content: 'You are the help desk of a public library. Answer briefly and politely.',
};
const ask = (content: string): ChatMessage[] => [SYSTEM, { role: 'user', content }];

/** Length of the longest common prefix of two id lists. */
function commonPrefix(a: number[], b: number[]): number {
  let n = 0;
  while (n < a.length && n < b.length && a[n] === b[n]) n++;
  return n;
}

beforeAll(async () => {
  await api.load(await chatModelDir('qwen'), { contextLength: 256 });
});
afterAll(() => api.unload());

describe('chat on a Qwen-shaped model with the real tokenizer', () => {
  it('the answer ends at <|im_end|>, which is neither shown nor counted', async () => {
    const r = await api.chat.completions.create({
      messages: ask('When do you open?'),
      max_tokens: 12,
      reuse: { mode: 'none' },
    });
    expect(r.choices[0].message.content).toBe(REPLY);
    expect(r.choices[0].finish_reason).toBe('stop');
    expect(r.usage.completion_tokens).toBe(engine.tokenize(REPLY, false).length);

    const chunks: ChatCompletionChunk[] = [];
    const stream = await api.chat.completions.create({
      messages: ask('Can I renew a book online?'),
      max_tokens: 12,
      stream: true,
    });
    for await (const c of stream) chunks.push(c);
    const text = chunks.map((c) => c.choices[0].delta.content ?? '').join('');
    expect(text).toBe(REPLY);
    expect(text).not.toContain('<|im_end|>');
    expect(chunks.at(-1)?.choices[0].finish_reason).toBe('stop');
  });

  it('a second conversation with the same system prompt reuses the system prompt and template tokens as an exact prefix', async () => {
    await engine.cache.clear();
    const first = ask('How many books can I borrow at once?');
    const second = ask('Is there parking near the library?');
    const a = await api.chat.completions.create({ messages: first, max_tokens: 8, reuse: { mode: 'none' } });
    // The live KV still holds the first conversation in place; move it on so the stored entry is what is reused.
    await engine.generate(
      { tokenIds: [5, 6, 7] },
      { maxNewTokens: 1, reuse: { mode: 'none' }, cachePrompt: false },
    );
    const b = await api.chat.completions.create({
      messages: second,
      max_tokens: 8,
      reuse: { mode: 'prefix' },
    });
    const idsA = engine.chatPromptIds(first);
    const idsB = engine.chatPromptIds(second);
    // '<|im_start|>system\n…<|im_end|>\n<|im_start|>user\n' is shared by every conversation.
    const systemPart = engine.tokenize(
      `<|im_start|>system\n${SYSTEM.content}<|im_end|>\n<|im_start|>user\n`,
      false,
    );
    expect(idsB.slice(0, systemPart.length)).toEqual(systemPart);
    const shared = commonPrefix(idsA, idsB);
    expect(shared).toBeGreaterThanOrEqual(systemPart.length);
    expect(b.usage.reused_tokens).toBe(shared);
    expect(b.usage.token_fates?.slice(0, shared).every((f) => f === 'reused')).toBe(true);
    expect(b.usage.entry_ids).toHaveLength(1);
    expect(b.choices[0].message.content).toBe(a.choices[0].message.content); // lossless: still the reply
  });

  it('a follow-up turn reuses the whole previous turn (prompt and answer)', async () => {
    await engine.cache.clear();
    const turn1 = ask('Do you have study rooms?');
    const r1 = await api.chat.completions.create({ messages: turn1, max_tokens: 8, reuse: { mode: 'none' } });
    const r2 = await askFollowUp(api, turn1, r1, 'Can I book one for tomorrow?');
    const ids1 = engine.chatPromptIds(turn1);
    expect(r2.usage.prompt_token_ids?.slice(0, ids1.length)).toEqual(ids1);
    // The stored entry holds the prompt and every answer token but the last.
    const stored = r1.usage.prompt_tokens + r1.usage.completion_tokens - 1;
    expect(r2.usage.reused_tokens).toBe(stored);
    expect(r2.usage.prompt_tokens - r2.usage.reused_tokens).toBeLessThan(20);
  });

  it('samples over the full 151,936-token vocabulary at temperature > 0', async () => {
    const req = {
      messages: ask('Where is the children section?'),
      max_tokens: 6,
      reuse: { mode: 'none' as const },
    };
    const s1 = await api.chat.completions.create({ ...req, temperature: 1, seed: 7 });
    const s1again = await api.chat.completions.create({ ...req, temperature: 1, seed: 7 });
    const s2 = await api.chat.completions.create({ ...req, temperature: 1, seed: 8 });
    const ids = (r: typeof s1) => engine.tokenize(r.choices[0].message.content, false);
    expect(s1again.choices[0].message.content).toBe(s1.choices[0].message.content);
    expect(s2.choices[0].message.content).not.toBe(s1.choices[0].message.content);
    // At T = 1 the planted reply's margin is spread over 151k tokens: other tokens come out.
    expect(s1.choices[0].message.content).not.toBe(REPLY);
    expect(ids(s1).some((id) => id > 65535)).toBe(true);
    // Cooled down, the same sampler finds the planted reply and its end-of-turn token.
    const cold = await api.chat.completions.create({ ...req, temperature: 0.05, top_p: 0.9, seed: 7 });
    expect(cold.choices[0].message.content).toBe(REPLY);
    expect(cold.choices[0].finish_reason).toBe('stop');
  });

  it('eval-reuse --chat measures a pair inside the chat template, system prompt included', async () => {
    const pair = { a: 'How do I renew a book?', b: 'How can I renew my books?' };
    const chat = { system: SYSTEM.content };
    const idsA = (evalPrompt(engine, pair.a, chat) as { tokenIds: number[] }).tokenIds;
    const idsB = (evalPrompt(engine, pair.b, chat) as { tokenIds: number[] }).tokenIds;
    expect(idsB).toEqual(engine.chatPromptIds(ask(pair.b)));
    expect(evalPrompt(engine, pair.b, undefined)).toBe(pair.b);
    const report = await evalReuse({ engine, hooks }, [pair], { modes: ['prefix'], maxNewTokens: 1, chat });
    const [row] = report.pairs;
    expect(row.promptTokens).toBe(idsB.length);
    expect(row.reusedFraction).toBeCloseTo(commonPrefix(idsA, idsB) / idsB.length, 9);
  });
});
