import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../src/errors.ts';
import { rougeL, words } from '../../src/eval/metrics.ts';
import {
  cachedPrompts,
  formatPairsJsonl,
  parsePairsJsonl,
  sampleSeeded,
  selectQqpPairs,
} from '../../src/eval/pairs.ts';
import { mulberry32 } from '../../src/util/prng.ts';
import { extraAsset } from '../helpers/models.ts';

const ROOT = resolve(import.meta.dirname, '../..');
/** The 4.9 MB QQP set is not in the repository: only with $KVSHARE_ASSETS holding qqp-gptcache/. */
const QQP = extraAsset('qqp-gptcache/similiar_qqp.json');
/** 64 {origin, similar} pairs of GPTCache's mock_data.json, in the repository (assets/SOURCES.md). */
const MOCK = resolve(ROOT, 'assets/gptcache-mock/mock_data_64.json');

function parseError(text: string): string {
  try {
    parsePairsJsonl(text);
  } catch (err) {
    expect(err).toBeInstanceOf(InvalidArgumentError);
    return (err as Error).message;
  }
  throw new Error('expected parsePairsJsonl to throw');
}

describe('parsePairsJsonl', () => {
  it('parses lines, skips blank ones and ignores extra fields', () => {
    const text = '{"a": "x y", "b": "x z"}\r\n\n  {"a":"p","b":"q","id":3}  \n';
    expect(parsePairsJsonl(text)).toEqual([
      { a: 'x y', b: 'x z' },
      { a: 'p', b: 'q' },
    ]);
    expect(parsePairsJsonl('')).toEqual([]);
  });

  it('names the line of the first bad line', () => {
    expect(parseError('{"a":"1","b":"2"}\n{"a": "1", "b": \n')).toMatch(/^pairs line 2: not valid JSON/);
    expect(parseError('\n\n[1, 2]')).toMatch(/^pairs line 3: expected an object/);
    expect(parseError('null')).toMatch(/^pairs line 1: expected an object/);
    expect(parseError('{"a": "x"}')).toMatch(/^pairs line 1: field "b" must be a string/);
    expect(parseError('{"a": 5, "b": "x"}')).toMatch(/field "a" must be a string/);
    expect(parseError('{"a": "x", "b": "  "}')).toMatch(/field "b" is empty/);
  });

  it('takes an array of prompts as `a` (all cached, in order) and checks each', () => {
    const [p] = parsePairsJsonl('{"a": ["one two", "three"], "b": "one two three"}');
    expect(cachedPrompts(p)).toEqual(['one two', 'three']);
    expect(cachedPrompts({ a: 'x', b: 'y' })).toEqual(['x']);
    expect(parseError('{"a": [], "b": "x"}')).toMatch(/field "a" is an empty array/);
    expect(parseError('{"a": ["x", 3], "b": "x"}')).toMatch(/field "a\[1\]" must be a string/);
    expect(parseError('{"a": ["x", " "], "b": "x"}')).toMatch(/field "a\[1\]" is empty/);
  });

  it('round-trips through formatPairsJsonl', () => {
    const pairs = [
      { a: 'She said, "hi".', b: 'He said "bye"\nthen left.' },
      { a: 'ünïcödé', b: 'x' },
      { a: ['p', 'q'], b: 'p q' },
    ];
    const text = formatPairsJsonl(pairs);
    expect(text.split('\n')).toHaveLength(4);
    expect(parsePairsJsonl(text)).toEqual(pairs);
  });
});

describe('seeded sampling', () => {
  it('mulberry32 is deterministic and uniform-ish in [0, 1)', () => {
    const a = mulberry32(42);
    const b = mulberry32(42);
    const xs = Array.from({ length: 1000 }, () => a());
    expect(Array.from({ length: 1000 }, () => b())).toEqual(xs);
    expect(xs.every((x) => x >= 0 && x < 1)).toBe(true);
    expect(Math.abs(xs.reduce((s, x) => s + x, 0) / xs.length - 0.5)).toBeLessThan(0.05);
    expect(mulberry32(43)()).not.toBe(mulberry32(42)());
  });

  it('sampleSeeded draws distinct items reproducibly', () => {
    const items = Array.from({ length: 100 }, (_, i) => i);
    const s = sampleSeeded(items, 10, 7);
    expect(sampleSeeded(items, 10, 7)).toEqual(s);
    expect(new Set(s).size).toBe(10);
    expect(sampleSeeded(items, 10, 8)).not.toEqual(s);
    expect(sampleSeeded([1, 2, 3], 10, 1).sort()).toEqual([1, 2, 3]);
    expect(items).toEqual(Array.from({ length: 100 }, (_, i) => i)); // input untouched
    expect(() => sampleSeeded(items, -1, 1)).toThrow(InvalidArgumentError);
  });

  it('selectQqpPairs skips empty, over-long and malformed pairs', () => {
    const data = [
      { origin: 'What is X?', similar: 'What does X mean?' },
      { origin: '', similar: 'Empty origin?' },
      { origin: 'Too long', similar: 'y'.repeat(301) },
      { origin: 'ok?', similar: 7 },
      null,
      { origin: '  Padded?  ', similar: 'Trimmed?' },
    ];
    const picked = selectQqpPairs(data, { n: 10, seed: 1 });
    expect(picked).toHaveLength(2);
    expect(picked).toContainEqual({ a: 'What is X?', b: 'What does X mean?' });
    expect(picked).toContainEqual({ a: 'Padded?', b: 'Trimmed?' });
    expect(() => selectQqpPairs({ origin: 'x' })).toThrow(InvalidArgumentError);
  });

  it('draws eligible pairs deterministically from the in-repo GPTCache sample (same shape as QQP)', () => {
    const data = JSON.parse(readFileSync(MOCK, 'utf8')) as { origin: string; similar: string }[];
    expect(data).toHaveLength(64);
    const pairs = selectQqpPairs(data, { n: 20, seed: 7, maxChars: 120 });
    expect(pairs).toHaveLength(20);
    expect(selectQqpPairs(data, { n: 20, seed: 7, maxChars: 120 })).toEqual(pairs);
    expect(selectQqpPairs(data, { n: 20, seed: 8, maxChars: 120 })).not.toEqual(pairs);
    const short = data.filter((d) => d.origin.trim().length <= 120 && d.similar.trim().length <= 120);
    expect(short.length).toBeLessThan(64); // the length cut removes some
    expect(selectQqpPairs(data, { n: 64, seed: 1, maxChars: 120 })).toHaveLength(short.length);
    for (const p of pairs) expect(short).toContainEqual({ origin: p.a, similar: p.b });
    expect(parsePairsJsonl(formatPairsJsonl(pairs))).toEqual(pairs);
  });

  it.skipIf(QQP === null)('draws 200 eligible QQP pairs deterministically from $KVSHARE_ASSETS', () => {
    const data: unknown = JSON.parse(readFileSync(QQP as string, 'utf8'));
    const pairs = selectQqpPairs(data, { n: 200, seed: 7 });
    expect(pairs).toHaveLength(200);
    expect(selectQqpPairs(data, { n: 200, seed: 7 })).toEqual(pairs);
    for (const p of pairs) {
      expect(p.a.length).toBeGreaterThan(0);
      expect(p.a.length).toBeLessThanOrEqual(300);
      expect(p.b.length).toBeLessThanOrEqual(300);
    }
    expect(parsePairsJsonl(formatPairsJsonl(pairs))).toEqual(pairs);
  });
});

describe('bench/pairs/stories.jsonl', () => {
  const pairs = parsePairsJsonl(readFileSync(resolve(ROOT, 'bench/pairs/stories.jsonl'), 'utf8')).map(
    (p) => ({ a: cachedPrompts(p).join(' '), b: p.b }),
  );
  const wordCount = (s: string) => s.trim().split(/\s+/).length;

  it('holds 64+ distinct pairs of 25–70-word prompts where B differs from A', () => {
    expect(pairs.length).toBeGreaterThanOrEqual(64);
    expect(new Set(pairs.map((p) => p.a)).size).toBe(pairs.length);
    expect(new Set(pairs.map((p) => p.b)).size).toBe(pairs.length);
    for (const p of pairs) {
      expect(p.a).not.toBe(p.b);
      for (const t of [p.a, p.b]) {
        expect(wordCount(t)).toBeGreaterThanOrEqual(25);
        expect(wordCount(t)).toBeLessThanOrEqual(70);
        expect(t).toMatch(/^[A-Za-z0-9 ,.'"!?]+$/); // plain story English
      }
    }
  });

  it('makes B a small edit of A (most words kept, in order)', () => {
    for (const p of pairs) expect(rougeL(words(p.b), words(p.a))).toBeGreaterThan(0.6);
  });
});
