/**
 * Prompt pairs for fidelity benchmarks (cache A, then ask B): a JSON-lines format, one `{"a": ..., "b": ...}`
 * object per line, plus the seeded sampling used to draw reproducible pair sets from larger data.
 */
import { InvalidArgumentError } from '../errors.ts';
import { mulberry32 } from '../util/prng.ts';

export interface PromptPair {
  a: string | string[]; // the prompt cached first (several: all cached, in order)
  b: string; // the similar prompt asked next
}

/** The prompts of a pair's `a`, in caching order. */
export function cachedPrompts(p: PromptPair): string[] {
  return typeof p.a === 'string' ? [p.a] : p.a;
}

/**
 * Parse JSON lines of `{"a": string | string[], "b": string}` (extra fields are ignored; blank lines are
 * skipped).
 * Throws InvalidArgumentError naming the 1-based line of the first bad line.
 */
export function parsePairsJsonl(text: string): PromptPair[] {
  const out: PromptPair[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (line === '') continue;
    const where = `pairs line ${i + 1}`;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (err) {
      throw new InvalidArgumentError(`${where}: not valid JSON (${(err as Error).message})`);
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw new InvalidArgumentError(`${where}: expected an object {"a": ..., "b": ...}`);
    }
    const { a, b } = value as { a?: unknown; b?: unknown };
    if (Array.isArray(a) && a.length === 0)
      throw new InvalidArgumentError(`${where}: field "a" is an empty array`);
    const fields: [string, unknown][] = [
      ...(Array.isArray(a)
        ? a.map((x, k): [string, unknown] => [`a[${k}]`, x])
        : [['a', a] as [string, unknown]]),
      ['b', b],
    ];
    for (const [name, field] of fields) {
      if (typeof field !== 'string')
        throw new InvalidArgumentError(`${where}: field "${name}" must be a string`);
      if (field.trim() === '') throw new InvalidArgumentError(`${where}: field "${name}" is empty`);
    }
    out.push({ a: a as string | string[], b: b as string });
  }
  return out;
}

/** One JSON object per line, newline-terminated; the inverse of parsePairsJsonl. */
export function formatPairsJsonl(pairs: readonly PromptPair[]): string {
  return pairs.map((p) => JSON.stringify({ a: p.a, b: p.b }) + '\n').join('');
}

/**
 * `n` distinct items drawn without replacement by a seeded partial Fisher–Yates shuffle, in draw order.
 * Returns every item (shuffled) when fewer than `n` are given.
 */
export function sampleSeeded<T>(items: readonly T[], n: number, seed: number): T[] {
  if (!Number.isInteger(n) || n < 0)
    throw new InvalidArgumentError(`sample size must be an integer >= 0, got ${n}`);
  const rng = mulberry32(seed);
  const pool = [...items];
  const count = Math.min(n, pool.length);
  for (let i = 0; i < count; i++) {
    const j = i + Math.floor(rng() * (pool.length - i));
    const tmp = pool[i];
    pool[i] = pool[j];
    pool[j] = tmp;
  }
  return pool.slice(0, count);
}

export interface QqpSelectOptions {
  n?: number; // pairs to draw (default 200)
  seed?: number; // PRNG seed (default 7)
  maxChars?: number; // skip pairs where either text is longer (default 300)
}

/**
 * Draw prompt pairs from GPTCache's `similiar_qqp.json` (an array of {origin, similar}): entries that are not
 * two non-empty strings of at most `maxChars` characters are skipped, then `n` are sampled with the seed.
 */
export function selectQqpPairs(data: unknown, opts: QqpSelectOptions = {}): PromptPair[] {
  const n = opts.n ?? 200;
  const seed = opts.seed ?? 7;
  const maxChars = opts.maxChars ?? 300;
  if (!Array.isArray(data))
    throw new InvalidArgumentError('QQP data must be a JSON array of {origin, similar}');
  const eligible: PromptPair[] = [];
  for (const item of data) {
    if (typeof item !== 'object' || item === null) continue;
    const { origin, similar } = item as { origin?: unknown; similar?: unknown };
    if (typeof origin !== 'string' || typeof similar !== 'string') continue;
    const a = origin.trim();
    const b = similar.trim();
    if (a === '' || b === '' || a.length > maxChars || b.length > maxChars) continue;
    eligible.push({ a, b });
  }
  return sampleSeeded(eligible, n, seed);
}
