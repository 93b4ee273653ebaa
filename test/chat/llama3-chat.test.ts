// The chat path on a Llama-3-shaped synthetic model with the real Llama 3 tokenizer: <|eot_id|>
// (listed only in generation_config.json, as in Llama-3-Instruct) ends the answer; the shared
// system prompt and the previous turn are reused as exact prefixes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChatMessage, EngineApi } from '../../src/api/types.ts';
import { createChatApi } from '../../src/engine/chat.ts';
import { createNodeTokenEngine } from '../../src/node/index.ts';
import { askFollowUp, chatModelDir, REPLY } from './models.ts';

const engine = createNodeTokenEngine();
const api: EngineApi = createChatApi(engine);
const SYSTEM: ChatMessage = { role: 'system', content: 'You are a tutor for high-school chemistry.' };

beforeAll(async () => {
  await api.load(await chatModelDir('llama3'), { contextLength: 256 });
});
afterAll(() => api.unload());

describe('chat on a Llama-3-shaped model with the real tokenizer', () => {
  it('<|eot_id|> ends the answer and is not shown; the config.json eos alone would not have stopped it', async () => {
    const turn1: ChatMessage[] = [SYSTEM, { role: 'user', content: 'What is a mole?' }];
    const r1 = await api.chat.completions.create({
      messages: turn1,
      max_tokens: 10,
      reuse: { mode: 'none' },
    });
    expect(engine.info?.config.eosTokenIds).toEqual([128001]);
    expect(r1.choices[0].message.content).toBe(REPLY);
    expect(r1.choices[0].finish_reason).toBe('stop');
    expect(r1.usage.completion_tokens).toBe(engine.tokenize(REPLY, false).length);

    // Another conversation, same system prompt: its header and the system turn come from the cache.
    const other: ChatMessage[] = [SYSTEM, { role: 'user', content: 'Why does ice float?' }];
    const systemPart = engine.chatPromptIds([SYSTEM]).length - 4; // minus the assistant header the template always appends
    const r2 = await api.chat.completions.create({
      messages: other,
      max_tokens: 10,
      reuse: { mode: 'prefix' },
    });
    expect(r2.usage.reused_tokens).toBeGreaterThanOrEqual(systemPart + 3); // + '<|start_header_id|>user<|end_header_id|>\n\n'
    expect(r2.usage.token_fates?.slice(0, systemPart).every((f) => f === 'reused')).toBe(true);

    // The follow-up turn of the first conversation reuses all of it (prompt and answer).
    const r3 = await askFollowUp(api, turn1, r1, 'And a molar mass?');
    expect(r3.usage.reused_tokens).toBe(r1.usage.prompt_tokens + r1.usage.completion_tokens - 1);
    expect(r3.choices[0].message.content).toBe(REPLY);
  });
});
