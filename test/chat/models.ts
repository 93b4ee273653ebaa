/**
 * Synthetic chat models for tests, made on demand: random weights with the real Qwen / Llama 3
 * tokenizer files (npm dev dependencies) and a planted greedy reply. Written once per machine into
 * the OS temp folder (never into the repo); concurrent test processes each write a private folder
 * and rename it into place.
 */
import { existsSync } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChatCompletion, ChatMessage, EngineApi } from '../../src/api/types.ts';
import type { SyntheticShape } from '../../src/cli/synthetic/synthetic.ts';
import { writeSyntheticModel } from '../../src/cli/synthetic/synthetic.ts';
import type { SyntheticTokenizer } from '../../src/cli/synthetic/synthetic-tokenizers.ts';

/** What the planted models answer greedily to any chat (then their end-of-turn token). */
export const REPLY = 'Hello there!';

export type ChatModelName = 'qwen' | 'llama3';

const MODELS: Record<ChatModelName, { shape: SyntheticShape; tokenizer: SyntheticTokenizer }> = {
  qwen: { shape: 'tiny-qwen2-151k', tokenizer: 'qwen' },
  llama3: { shape: 'tiny-llama3', tokenizer: 'llama3' },
};

/** Bump when what writeSyntheticModel produces for these changes, so stale temp folders are not used. */
const VERSION = 1;

/** The folder of a synthetic chat model (`parent` defaults to the OS temp folder). */
export async function chatModelDir(
  name: ChatModelName,
  parent = join(tmpdir(), 'kvshare-chat-models'),
): Promise<string> {
  const dir = join(parent, `${MODELS[name].shape}-${name}-v${VERSION}`);
  if (existsSync(join(dir, 'model.safetensors'))) return dir;
  await mkdir(parent, { recursive: true });
  const partial = `${dir}.partial-${process.pid}`;
  await writeSyntheticModel({ ...MODELS[name], out: partial, reply: REPLY });
  try {
    await rename(partial, dir);
  } catch (e) {
    if (!existsSync(join(dir, 'model.safetensors'))) throw e; // another process won the race
    await rm(partial, { recursive: true, force: true });
  }
  return dir;
}

/** The next turn of `turns` (answered by `answer`): asked with prefix reuse, so what it reuses is exact. */
export function askFollowUp(
  api: EngineApi,
  turns: ChatMessage[],
  answer: ChatCompletion,
  question: string,
): Promise<ChatCompletion> {
  const messages: ChatMessage[] = [
    ...turns,
    { role: 'assistant', content: answer.choices[0].message.content },
    { role: 'user', content: question },
  ];
  return api.chat.completions.create({ messages, max_tokens: 8, reuse: { mode: 'prefix' } });
}
