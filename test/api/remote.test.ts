// The worker boundary without a browser: EngineHost on one end of a MessageChannel, the client on the
// other (the same Comlink code paths a Web Worker uses).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CacheAddOptions, ChatCompletionChunk, ChatMessage, LoadProgress } from '../../src/api/types.ts';
import { type EngineClient, wrapEngine } from '../../src/client/remote.ts';
import {
  AbortError,
  EmptyPromptError,
  EngineNotLoadedError,
  EngineWorkerError,
  InvalidArgumentError,
  KVShareError,
  ModelFileMissingError,
} from '../../src/errors.ts';
import { createNodeEngine } from '../../src/node/index.ts';
import { deserializeError, serializeError } from '../../src/worker/error-transfer.ts';
import { exposeEngine } from '../../src/worker/host.ts';
import { storiesDir } from '../helpers/models.ts';

const channels: MessageChannel[] = [];
function pair(): EngineClient {
  const ch = new MessageChannel();
  channels.push(ch);
  exposeEngine(createNodeEngine(), ch.port1);
  return wrapEngine(ch.port2);
}
const user = (content: string): ChatMessage[] => [{ role: 'user', content }];

const client = pair();
const progress: LoadProgress[] = [];

beforeAll(async () => {
  await client.load(storiesDir(), { contextLength: 256, onProgress: (p) => progress.push(p) });
});
afterAll(async () => {
  await client.unload();
  client.terminate();
  for (const ch of channels) {
    ch.port1.close();
    ch.port2.close();
  }
});

describe('engine over a Comlink endpoint', () => {
  it('delivers every progress event before load() resolves, ending in ready', async () => {
    expect(progress.length).toBeGreaterThan(3);
    expect(progress.at(-1)?.kind).toBe('ready');
    expect((await client.info())?.contextLength).toBe(256);
  });

  it('errors keep their class, name, code and message', async () => {
    const err = await client.chat.completions.create({ messages: [] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EmptyPromptError);
    expect(err).toBeInstanceOf(KVShareError);
    expect((err as EmptyPromptError).code).toBe('EMPTY_PROMPT');
    expect((err as Error).name).toBe('EmptyPromptError');
    expect((err as Error).stack).toContain('EmptyPromptError');
    await expect(
      client.chat.completions.create({ messages: user('hi'), top_p: 2, stream: true }),
    ).rejects.toBeInstanceOf(InvalidArgumentError);
    const idle = pair();
    await expect(idle.chat.completions.create({ messages: user('hi') })).rejects.toBeInstanceOf(
      EngineNotLoadedError,
    );
    await expect(idle.load('/nonexistent/model')).rejects.toBeInstanceOf(ModelFileMissingError);
    idle.terminate();
    await expect(idle.info()).rejects.toBeInstanceOf(EngineWorkerError);
  });

  it('streams across the boundary: concatenated chunks equal the non-streamed answer', async () => {
    const req = { messages: user('Lily went to the park'), max_tokens: 20, reuse: { mode: 'none' as const } };
    const chunks: ChatCompletionChunk[] = [];
    for await (const c of await client.chat.completions.create({ ...req, stream: true })) chunks.push(c);
    const whole = await client.chat.completions.create(req);
    expect(chunks.length).toBeGreaterThan(2);
    expect(chunks.at(-1)?.usage?.completion_tokens).toBe(whole.usage.completion_tokens);
    expect(chunks.map((c) => c.choices[0].delta.content).join('')).toBe(whole.choices[0].message.content);
  });

  it('an AbortSignal stops only its own request; the next one completes and reuses KV', async () => {
    const ac = new AbortController();
    const stream = await client.chat.completions.create({
      messages: user('Once upon a time, Lily found a red ball in the park.'),
      max_tokens: 200,
      stream: true,
      signal: ac.signal,
    });
    let n = 0;
    let finish: string | null = null;
    for await (const c of stream) {
      finish = c.choices[0].finish_reason;
      if (++n === 3) ac.abort();
    }
    expect(finish).toBe('abort');
    expect(n).toBeLessThan(10);
    const similar = await client.chat.completions.create({
      messages: user('Once upon a time, Tom found a blue ball in the park.'),
      max_tokens: 8,
    });
    expect(similar.choices[0].finish_reason).not.toBe('abort');
    expect(similar.usage.reused_tokens).toBeGreaterThan(0);
    await expect(
      client.chat.completions.create({ messages: user('x'), stream: true, signal: AbortSignal.abort() }),
    ).rejects.toBeInstanceOf(AbortError);
  });

  it('breaking out of a stream aborts it on the other side', async () => {
    const stream = await client.chat.completions.create({
      messages: user('Tom'),
      max_tokens: 200,
      stream: true,
    });
    for await (const _ of stream) break;
    const after = await client.chat.completions.create({ messages: user('Tom'), max_tokens: 3 });
    expect(after.usage.completion_tokens).toBe(3);
    expect((await client.cache.stats()).entries).toBeGreaterThan(0);
  });
});

describe('documents across the boundary', () => {
  it('cache.add and cache.addDocument: ids, progress before the result, typed errors', async () => {
    await client.cache.clear();
    const seen: number[] = [];
    const text = 'Once upon a time, Lily found a red ball in the park. She threw it to her dog.';
    const meta = await client.cache.add(text, { id: 'lily', onProgress: (p) => seen.push(p.doneTokens) });
    expect(meta.id).toBe('lily');
    expect(seen.at(-1)).toBe(meta.numTokens);
    const doc = await client.cache.addDocument(`${text} Tom had a blue kite. He ran up the hill with it.`, {
      id: 'doc',
      chunkTokens: 16,
      onProgress: (p) => seen.push(p.totalTokens),
    });
    expect(doc.chunks.map((c) => c.id)).toEqual(doc.chunks.map((_, i) => `doc#${i}`));
    expect(doc.chunks.length).toBeGreaterThan(1);
    expect((await client.cache.list()).map((e) => e.id).sort()).toEqual(
      ['lily', ...doc.chunks.map((c) => c.id)].sort(),
    );
    await expect(client.cache.addDocument(text, { chunkTokens: 2 })).rejects.toBeInstanceOf(
      InvalidArgumentError,
    );
    await expect(client.cache.add(text, { signal: AbortSignal.abort() })).rejects.toBeInstanceOf(AbortError);
    await expect(client.cache.add(text, null as unknown as CacheAddOptions)).rejects.toBeInstanceOf(
      InvalidArgumentError,
    );
  });

  it('meta crosses the boundary both ways; bad meta is InvalidArgumentError', async () => {
    await client.cache.clear();
    const text = 'Once upon a time, Lily found a red ball in the park. She threw it to her dog.';
    const meta = { title: 'Lily', n: 2, ok: true, none: null };
    expect((await client.cache.add(text, { id: 'm', meta })).meta).toEqual(meta);
    const doc = await client.cache.addDocument(`${text} Tom had a blue kite.`, {
      id: 'd',
      chunkTokens: 16,
      meta: { src: 'a.txt' },
    });
    expect(doc.chunks.every((c) => c.meta?.src === 'a.txt')).toBe(true);
    const listed = await client.cache.list();
    expect(listed.find((e) => e.id === 'm')?.meta).toEqual(meta);
    await expect(
      client.cache.add(text, { meta: { deep: { x: 1 } } as unknown as Record<string, string> }),
    ).rejects.toBeInstanceOf(InvalidArgumentError);
  });
});

describe('client lifecycle', () => {
  it('interruptGenerate() stops the request being served', async () => {
    const stream = await client.chat.completions.create({
      messages: user('Sam'),
      max_tokens: 200,
      stream: true,
    });
    let n = 0;
    let finish: string | null = null;
    for await (const c of stream) {
      finish = c.choices[0].finish_reason;
      if (++n === 2) await client.interruptGenerate();
    }
    expect(finish).toBe('abort');
    expect(n).toBeLessThan(10);
  });

  it('a failed worker rejects calls in flight and later calls with EngineWorkerError', async () => {
    const ch = new MessageChannel();
    channels.push(ch);
    let fail: (message: string) => void = () => undefined;
    const orphan = wrapEngine(ch.port2, { onFatal: (f) => (fail = f) }); // nothing serves port1
    const pending = orphan.info();
    fail('The engine worker failed: boom');
    await expect(pending).rejects.toBeInstanceOf(EngineWorkerError);
    await expect(orphan.cache.stats()).rejects.toThrow(/boom/);
  });
});

describe('error serialisation', () => {
  it('rebuilds built-in classes, DOMException and causes', () => {
    const t = deserializeError(serializeError(new TypeError('bad type')));
    expect(t).toBeInstanceOf(TypeError);
    const d = deserializeError(serializeError(new DOMException('gone', 'AbortError')));
    expect(d).toBeInstanceOf(DOMException);
    expect(d.name).toBe('AbortError');
    const withCause = new ModelFileMissingError('no file', { cause: new Error('ENOENT') });
    const m = deserializeError(serializeError(withCause));
    expect(m).toBeInstanceOf(ModelFileMissingError);
    expect((m.cause as Error).message).toBe('ENOENT');
    const odd = deserializeError({ name: 'FutureError', code: 'SOMETHING_NEW', message: 'm' });
    expect(odd).toBeInstanceOf(KVShareError);
    expect(odd.name).toBe('FutureError');
    expect(deserializeError(serializeError('a string')).message).toBe('a string');
  });
});
