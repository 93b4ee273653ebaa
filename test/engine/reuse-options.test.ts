// Issue 20 finding 8: every reuse option is validated where it enters (minSimilarity was never
// checked; recomputeRatio: "0.5" passed by coercion).
import { describe, expect, it } from 'vitest';
import { DEFAULT_REUSE, resolveReuse } from '../../src/engine/prefill.ts';
import { InvalidArgumentError } from '../../src/errors.ts';

describe('reuse options', () => {
  it.each([
    ['minSimilarity NaN', { minSimilarity: Number.NaN }],
    ['minSimilarity -1', { minSimilarity: -1 }],
    ['minSimilarity 2', { minSimilarity: 2 }],
    ["minSimilarity 'x'", { minSimilarity: 'x' }],
    ["recomputeRatio '0.5'", { recomputeRatio: '0.5' }],
    ['recomputeRatio true', { recomputeRatio: true }],
    ['recomputeRatio 1.5', { recomputeRatio: 1.5 }],
    ['a string', 'kvshare'],
    ['an array', [1]],
  ])('%s is InvalidArgumentError', (_, opts) => {
    expect(() => resolveReuse(opts as never, DEFAULT_REUSE)).toThrow(InvalidArgumentError);
  });

  it('valid values pass', () => {
    const r = resolveReuse({ minSimilarity: 0, recomputeRatio: 1 }, DEFAULT_REUSE);
    expect([r.minSimilarity, r.recomputeRatio]).toEqual([0, 1]);
  });
});
