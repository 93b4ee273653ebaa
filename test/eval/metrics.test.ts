import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../src/errors.ts';
import {
  bleu,
  exactAgreement,
  firstTokenAgreement,
  klDivergence,
  rougeL,
  rougeLScores,
  words,
} from '../../src/eval/metrics.ts';

const w = (s: string) => s.split(' ');

describe('ROUGE-L', () => {
  it('matches hand-computed values (Lin 2004 examples)', () => {
    // LCS("police killed the gunman", "police kill the gunman") = "police the gunman" = 3 of 4 words.
    expect(rougeL(w('police kill the gunman'), w('police killed the gunman'))).toBeCloseTo(0.75, 12);
    // LCS with "the gunman kill police" is "the gunman" = 2 of 4.
    expect(rougeL(w('the gunman kill police'), w('police killed the gunman'))).toBeCloseTo(0.5, 12);
    // LCS("the cat sat on the mat", "the cat is on the mat") = 5: P = R = 5/6.
    expect(rougeL(w('the cat sat on the mat'), w('the cat is on the mat'))).toBeCloseTo(5 / 6, 12);
  });

  it('separates precision and recall for unequal lengths', () => {
    const s = rougeLScores([1, 2, 3], [1, 2, 3, 4, 5, 6]);
    expect(s.precision).toBe(1);
    expect(s.recall).toBe(0.5);
    expect(s.f1).toBeCloseTo(2 / 3, 12);
  });

  it('scores identical 1, disjoint 0 and empty edge cases', () => {
    expect(rougeL([5, 6, 7], [5, 6, 7])).toBe(1);
    expect(rougeL([1, 2], [3, 4])).toBe(0);
    expect(rougeL([], [])).toBe(1);
    expect(rougeL([], [1])).toBe(0);
    expect(rougeL([1], [])).toBe(0);
  });
});

describe('BLEU', () => {
  it('matches a hand computation with add-one smoothing for n > 1', () => {
    // p1 = 5/6, p2 = (3+1)/(5+1), p3 = (1+1)/(4+1), p4 = (0+1)/(3+1), BP = 1 → (1/18)^(1/4).
    expect(bleu(w('the cat sat on the mat'), w('the cat is on the mat'))).toBeCloseTo((1 / 18) ** 0.25, 12);
  });

  it('is 1 for identical, 0 for disjoint, and clips repeated n-grams', () => {
    expect(bleu(w('once upon a time there was a girl'), w('once upon a time there was a girl'))).toBeCloseTo(
      1,
      12,
    );
    expect(bleu([1, 2, 3, 4, 5], [6, 7, 8, 9, 10])).toBe(0);
    // "the the the the" vs "the cat": clipped unigram precision 1/4 → BP 1 (c > r).
    const p1 = 1 / 4;
    const p2 = (0 + 1) / (3 + 1);
    const p3 = (0 + 1) / (2 + 1);
    const p4 = (0 + 1) / (1 + 1);
    expect(bleu(w('the the the the'), w('the cat'))).toBeCloseTo((p1 * p2 * p3 * p4) ** 0.25, 12);
  });

  it('applies the brevity penalty and does not zero out short answers', () => {
    expect(bleu([1, 2], [1, 2, 3, 4])).toBeCloseTo(Math.exp(1 - 4 / 2), 12);
    expect(bleu([1], [1])).toBe(1);
    expect(bleu([], [])).toBe(1);
    expect(bleu([], [1])).toBe(0);
    expect(bleu([1, 2, 3], [1, 2, 3], { maxN: 2 })).toBe(1);
  });

  it('does not confuse numbers with their string spelling', () => {
    expect(bleu([1, 2] as ArrayLike<number>, ['1', '2'] as unknown as ArrayLike<number>)).toBe(0);
  });
});

describe('agreement', () => {
  it('exact agreement counts equal positions over the longer length', () => {
    expect(exactAgreement([1, 2, 3, 4], [1, 2, 9])).toBe(0.5);
    expect(exactAgreement([1, 2, 3], [1, 2, 3])).toBe(1);
    expect(exactAgreement([], [])).toBe(1);
    expect(exactAgreement([1], [])).toBe(0);
    expect(exactAgreement(['a', 'b'], ['b', 'a'])).toBe(0);
  });

  it('first-token agreement', () => {
    expect(firstTokenAgreement([7, 1], [7, 2])).toBe(1);
    expect(firstTokenAgreement([7], [8])).toBe(0);
    expect(firstTokenAgreement([], [])).toBe(1);
    expect(firstTokenAgreement([], [1])).toBe(0);
  });
});

describe('words', () => {
  it('splits text into lower-cased words and punctuation', () => {
    expect(words("Once upon a time, there's Lily!")).toEqual([
      'once',
      'upon',
      'a',
      'time',
      ',',
      "there's",
      'lily',
      '!',
    ]);
    expect(words('  ')).toEqual([]);
  });
});

describe('klDivergence', () => {
  it('is 0 for equal or shifted logits and matches the closed form for two outcomes', () => {
    expect(klDivergence([1, 2, 3], [1, 2, 3])).toBe(0);
    expect(klDivergence([1, 2, 3], [11, 12, 13])).toBeCloseTo(0, 12);
    // P = (0.5, 0.5), Q = softmax(0, ln 3) = (0.25, 0.75): KL = 0.5 ln 2 + 0.5 ln(2/3)
    expect(klDivergence([0, 0], [0, Math.log(3)])).toBeCloseTo(0.5 * Math.log(2) + 0.5 * Math.log(2 / 3), 12);
  });

  it('is asymmetric, stays finite for large logits, and refuses mismatched lengths', () => {
    const p = [5, 0, 0];
    const q = [0, 5, 0];
    expect(klDivergence(p, q)).toBeGreaterThan(0);
    expect(klDivergence([1000, 0], [0, 1000])).toBeCloseTo(1000, 6);
    expect(klDivergence([0, 0, 9], [0, 0, 0])).not.toBeCloseTo(klDivergence([0, 0, 0], [0, 0, 9]), 3);
    expect(() => klDivergence([1], [1, 2])).toThrow(InvalidArgumentError);
    expect(() => klDivergence([], [])).toThrow(InvalidArgumentError);
  });
});
