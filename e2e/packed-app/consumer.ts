// Type-checked (tsc, strict, skipLibCheck off) inside a temporary app where the packed tarball is
// installed, by e2e/package.e2e.test.ts: every entry point resolves to its .d.ts, and
// `chat.completions.create({ stream: true })` narrows to an async iterable. Never run.
import { type ChatCompletionChunk, createEngine, EmptyPromptError } from 'kvshare-web/client';
import { defineKVShareChat } from 'kvshare-web/component/define';
import type { KVShareChat } from 'kvshare-web/kvshare-chat.js';
import { createNodeEngine, createNodeTokenEngine, type EngineApi } from 'kvshare-web/node';

export async function browserChat(): Promise<string> {
  const engine = createEngine();
  await engine.load('/models/stories260K-hf');
  const messages = [{ role: 'user' as const, content: 'Once upon a time' }];
  const stream = await engine.chat.completions.create({ messages, stream: true });
  let text = '';
  for await (const chunk of stream) {
    const c: ChatCompletionChunk = chunk;
    text += c.choices[0]?.delta.content ?? '';
  }
  // @ts-expect-error a stream has no choices: stream: true narrowed to an async iterable
  stream.choices;
  const whole = await engine.chat.completions.create({ messages });
  const content: string | null = whole.choices[0].message.content;
  // @ts-expect-error a whole completion is not iterable
  for await (const _ of whole);
  return text + content;
}

export function element(): KVShareChat {
  defineKVShareChat('my-chat');
  return document.createElement('my-chat') as KVShareChat;
}

export async function nodeAnswer(model: string): Promise<string> {
  const engine: EngineApi = createNodeEngine();
  await engine.load(model);
  const r = await engine.chat.completions.create({ messages: [{ role: 'user', content: 'Hi' }] });
  await engine.unload();
  return r.choices[0].message.content;
}

export async function nodeText(model: string): Promise<string> {
  const engine = createNodeTokenEngine();
  await engine.load(model);
  try {
    return (await engine.generate('Once upon a time', { maxNewTokens: 8 })).text;
  } catch (e) {
    if (e instanceof EmptyPromptError) return '';
    throw e;
  } finally {
    engine.unload();
  }
}
