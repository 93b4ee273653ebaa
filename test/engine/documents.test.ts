// Documents in the cache: chunking (pure), then cache.add / cache.addDocument on stories260K: ids,
// progress, abort, replacement, typed errors (src/engine/documents.ts).
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chunkBounds, isBreakPiece, leadTokens, MIN_CHUNK_TOKENS } from '../../src/engine/documents.ts';
import type { Engine } from '../../src/engine/engine.ts';
import { AbortError, ContextOverflowError, InvalidArgumentError } from '../../src/errors.ts';
import { createNodeTokenEngine } from '../../src/node/index.ts';
import { mulberry32 } from '../../src/util/prng.ts';
import { storiesDir } from '../helpers/models.ts';

const storiesPairs = new URL('../../bench/pairs/stories.jsonl', import.meta.url);

describe('chunkBounds', () => {
  it('covers every token once, in order, at most chunkTokens per chunk, cutting at a break in the last quarter', () => {
    const rng = mulberry32(3);
    for (let trial = 0; trial < 200; trial++) {
      const n = 1 + Math.floor(rng() * 500);
      const size = MIN_CHUNK_TOKENS + Math.floor(rng() * 64);
      const breaks = new Set(Array.from({ length: n }, (_, i) => i).filter(() => rng() < 0.05));
      const b = chunkBounds(n, size, (i) => breaks.has(i));
      expect(b[0][0]).toBe(0);
      expect(b.at(-1)?.[1]).toBe(n);
      for (const [i, [s, e]] of b.entries()) {
        expect(e - s).toBeGreaterThan(0);
        expect(e - s).toBeLessThanOrEqual(size);
        if (i > 0) expect(s).toBe(b[i - 1][1]);
        if (e === n) continue;
        // The cut is the last break in the final quarter, else the limit.
        const floor = s + Math.ceil((size * 3) / 4);
        const last = [...breaks].filter((x) => x >= floor && x < s + size).sort((x, y) => y - x)[0];
        expect(e).toBe(last === undefined ? s + size : last + 1);
      }
    }
  });

  it('sentence and line ends are breaks, words are not', () => {
    expect(isBreakPiece('.')).toBe(true);
    expect(isBreakPiece('!"')).toBe(true);
    expect(isBreakPiece('\n')).toBe(true);
    expect(isBreakPiece(' park')).toBe(false);
    expect(isBreakPiece(',')).toBe(false);
  });

  it('leadTokens: what special tokens put in front, or nothing', () => {
    expect(leadTokens([1, 5, 6], [5, 6])).toEqual([1]);
    expect(leadTokens([5, 6], [5, 6])).toEqual([]);
    expect(leadTokens([1, 5, 7], [5, 6])).toEqual([]);
  });
});

const STORY = [
  'Once upon a time, there was a little girl named Lily. She loved to play with her ball in the park.',
  'One day, she saw a big dog under a tree. The dog looked sad and lonely.',
  'Tom was a happy boy who lived in a small house near the sea. Every morning he ran to the beach.',
  'He put the shells in a red bucket and showed them to his mom. His mom smiled and gave him a hug.',
  'One day, a little bunny named Ben hopped into the garden. He saw a big orange carrot in the dirt.',
  'Ben pulled and pulled, but the carrot would not come out. He asked his friend the bird for help.',
].join(' ');

describe('cache.add and cache.addDocument', () => {
  let engine: Engine;
  beforeAll(async () => {
    engine = createNodeTokenEngine();
    await engine.load(storiesDir(), { contextLength: 512 });
  });
  afterAll(() => engine.unload());

  it('add: the id asked for, progress up to the prompt length, the same id replaced', async () => {
    const seen: number[] = [];
    const a = await engine.cache.add(`${STORY} ${STORY}`, {
      id: 'story',
      onProgress: (p) => seen.push(p.doneTokens),
    });
    expect(a.id).toBe('story');
    expect(a.exact).toBe(true);
    expect(seen.length).toBeGreaterThan(1); // more than one 256-row slice
    expect(seen.at(-1)).toBe(a.numTokens);
    const b = await engine.cache.add('Once upon a time, Tom found a blue ball.', { id: 'story' });
    const held = engine.cache.list().filter((e) => e.id === 'story');
    expect(held).toHaveLength(1);
    expect(held[0].numTokens).toBe(b.numTokens);
    expect(b.numTokens).toBeLessThan(a.numTokens);
  });

  it('add: chat messages become the template without the generation prompt, and a chat reuses them', async () => {
    await engine.cache.clear();
    const messages = [{ role: 'user' as const, content: STORY.slice(0, 200) }];
    const meta = await engine.cache.add(messages, { id: 'chat' });
    await engine.cache.add('Tom had a red kite.'); // the live cache now holds another prompt
    expect(meta.numTokens).toBe(engine.chatPromptIds(messages, { addGenerationPrompt: false }).length);
    const r = await engine.generate(
      { tokenIds: engine.chatPromptIds([...messages, { role: 'user', content: 'And then?' }]) },
      { maxNewTokens: 4, reuse: { mode: 'prefix' } },
    );
    expect(r.reuse.entryIds).toEqual(['chat']);
    expect(r.reuse.reusedTokens).toBeGreaterThan(40);
  });

  it('add: an abort between slices stores nothing; bad options are typed errors', async () => {
    await engine.cache.clear();
    const ac = new AbortController();
    const err = await engine.cache
      .add(STORY, { id: 'x', signal: ac.signal, onProgress: () => ac.abort() })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AbortError);
    expect(engine.cache.list()).toEqual([]);
    await expect(engine.cache.add(STORY, { id: '' })).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(engine.cache.add(STORY, { id: 'y'.repeat(257) })).rejects.toBeInstanceOf(
      InvalidArgumentError,
    );
    await expect(engine.cache.add(STORY, { onProgress: 3 as unknown as () => void })).rejects.toBeInstanceOf(
      InvalidArgumentError,
    );
    await expect(engine.cache.add([{ role: 'user', content: ' ' }])).rejects.toThrow(/empty/);
    await expect(engine.cache.add(STORY.repeat(8))).rejects.toBeInstanceOf(ContextOverflowError);
    expect(engine.cache.list()).toEqual([]);
  });

  it('addDocument: chunks <id>#n of at most chunkTokens (+ BOS), progress over all, a re-add replaces every chunk', async () => {
    await engine.cache.clear();
    const seen: { doneTokens: number; totalTokens: number }[] = [];
    const doc = await engine.cache.addDocument(STORY.repeat(3), {
      id: 'doc',
      chunkTokens: 64,
      onProgress: (p) => seen.push(p),
    });
    expect(doc.id).toBe('doc');
    expect(doc.chunks.length).toBeGreaterThan(4);
    expect(doc.chunks.map((c) => c.id)).toEqual(doc.chunks.map((_, i) => `doc#${i}`));
    const bos = engine.tokenize('x', true).length - engine.tokenize('x', false).length;
    for (const c of doc.chunks) expect(c.numTokens).toBeLessThanOrEqual(64 + bos);
    const total = doc.chunks.reduce((s, c) => s + c.numTokens, 0);
    expect(seen.at(-1)).toEqual({ doneTokens: total, totalTokens: total });
    // The chunks' tokens, BOS removed, are the document's tokens.
    const body = await Promise.all(
      doc.chunks.map(async (c) => [...(await engine.cache.get(c.id))!.tokens].slice(bos)),
    );
    expect(body.flat()).toEqual(engine.tokenize(STORY.repeat(3), false));

    const again = await engine.cache.addDocument(STORY, { id: 'doc', chunkTokens: 200 });
    const ids = engine.cache
      .list()
      .map((e) => e.id)
      .sort();
    expect(ids).toEqual(again.chunks.map((c) => c.id).sort());
    expect(again.chunks.length).toBeLessThan(doc.chunks.length);
  });

  it('addDocument: typed errors for bad chunk sizes and empty text; nothing stored', async () => {
    await engine.cache.clear();
    for (const chunkTokens of [0, 8, 512, 1.5, Number.NaN]) {
      await expect(engine.cache.addDocument(STORY, { chunkTokens })).rejects.toBeInstanceOf(
        InvalidArgumentError,
      );
    }
    await expect(engine.cache.addDocument('  ', { chunkTokens: 64 })).rejects.toBeInstanceOf(
      InvalidArgumentError,
    );
    const ac = new AbortController();
    let calls = 0;
    const err = await engine.cache
      .addDocument(STORY.repeat(3), {
        chunkTokens: 64,
        signal: ac.signal,
        onProgress: () => {
          if (++calls === 3) ac.abort();
        },
      })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AbortError);
    expect(engine.cache.list()).toEqual([]); // the chunks stored before the abort are gone too
  });

  it('meta: kept on the entry (add) and on every chunk (addDocument); bad meta is a typed error, nothing stored', async () => {
    await engine.cache.clear();
    const meta = { title: 'Lily', year: 2024, public: true, note: null };
    const a = await engine.cache.add(STORY.slice(0, 120), { id: 'one', meta });
    expect(a.meta).toEqual(meta);
    expect((await engine.cache.get('one'))?.meta).toEqual(meta);
    // A generation's write-back of the same tokens replaces the entry but keeps its meta.
    await engine.generate(STORY.slice(0, 120), { maxNewTokens: 1, reuse: { mode: 'none' } }); // stores the prompt alone
    const same = engine.cache.list().filter((e) => e.numTokens === a.numTokens);
    expect(same).toHaveLength(1);
    expect(same[0].meta).toEqual(meta);
    const doc = await engine.cache.addDocument(STORY, {
      id: 'doc',
      chunkTokens: 32,
      meta: { src: 'story.txt' },
    });
    expect(doc.chunks.length).toBeGreaterThan(1);
    const listed = engine.cache.list().filter((e) => e.id.startsWith('doc#'));
    expect(listed.map((e) => e.meta)).toEqual(doc.chunks.map(() => ({ src: 'story.txt' })));
    const plain = await engine.cache.add('Tom had a red kite.', { id: 'plain' });
    expect(plain).not.toHaveProperty('meta');
    const before = engine.cache.list().length;
    for (const bad of [
      [1],
      { a: { b: 1 } },
      { n: Number.NaN },
      { ['k'.repeat(65)]: 1 },
      { s: 'x'.repeat(5000) },
    ]) {
      const m = bad as unknown as Record<string, string>;
      await expect(engine.cache.add(STORY, { id: 'bad', meta: m })).rejects.toBeInstanceOf(
        InvalidArgumentError,
      );
      await expect(
        engine.cache.addDocument(STORY, { id: 'bad', chunkTokens: 32, meta: m }),
      ).rejects.toBeInstanceOf(InvalidArgumentError);
    }
    expect(engine.cache.list()).toHaveLength(before);
  });

  it('a prompt quoting 8 chunks of a document in a shuffled order, plus a question, reuses every chunk', async () => {
    await engine.cache.clear();
    const text = readFileSync(storiesPairs, 'utf8')
      .split('\n')
      .filter((l) => l.trim())
      .slice(0, 6)
      .map((l) => (JSON.parse(l) as { a: string }).a)
      .join(' ');
    const doc = await engine.cache.addDocument(text, { id: 'tales', chunkTokens: 32 });
    expect(doc.chunks.length).toBeGreaterThanOrEqual(8);
    const bos = engine.tokenize('x', true).length - engine.tokenize('x', false).length;
    const bodies = await Promise.all(
      doc.chunks.slice(0, 8).map(async (c) => [...(await engine.cache.get(c.id))!.tokens].slice(bos)),
    );
    const order = [5, 2, 7, 0, 3, 6, 1, 4];
    const ids = [
      ...engine.tokenize('x', true).slice(0, bos),
      ...order.flatMap((i) => bodies[i]),
      ...engine.tokenize('What happened in the end?', false),
    ];
    for (const mode of ['naive', 'kvshare'] as const) {
      const r = await engine.generate(
        { tokenIds: ids },
        { maxNewTokens: 4, cachePrompt: false, reuse: { mode } },
      );
      expect(r.reuse.path).not.toBe('full');
      expect(new Set(r.reuse.entryIds)).toEqual(new Set(order.map((i) => `tales#${i}`)));
      const quoted = bodies.reduce((s, b) => s + b.length, 0);
      expect(r.reuse.reusedTokens).toBeGreaterThan((mode === 'naive' ? 0.9 : 0.7) * quoted);
    }
  });
});
