import { describe, expect, it } from 'vitest';
import { sampleToken, validateSampling } from '../../src/engine/sampler.ts';
import { InvalidArgumentError } from '../../src/errors.ts';
import { mulberry32 } from '../../src/util/prng.ts';

const logits = new Float32Array([1, 3, 2, 0.5, 2.9]);

describe('sampler', () => {
  it('temperature 0 is argmax', () => {
    expect(sampleToken(logits, { temperature: 0 }, mulberry32(1))).toBe(1);
  });

  it('top-k 1 is argmax at any temperature', () => {
    for (let s = 0; s < 20; s++)
      expect(sampleToken(logits, { temperature: 5, topK: 1 }, mulberry32(s))).toBe(1);
  });

  it('top-k 2 only yields the two best tokens', () => {
    const seen = new Set<number>();
    const rand = mulberry32(7);
    for (let i = 0; i < 200; i++) seen.add(sampleToken(logits, { temperature: 10, topK: 2 }, rand));
    expect([...seen].sort()).toEqual([1, 4]);
  });

  it('top-p keeps the smallest nucleus reaching p', () => {
    // softmax(logits) ~ [.06, .38, .14, .03, .34]: p=0.5 keeps {1, 4}; p=0.1 keeps {1}.
    const rand = mulberry32(3);
    const seen = new Set<number>();
    for (let i = 0; i < 200; i++) seen.add(sampleToken(logits, { temperature: 1, topP: 0.5 }, rand));
    expect([...seen].sort()).toEqual([1, 4]);
    for (let i = 0; i < 50; i++) expect(sampleToken(logits, { temperature: 1, topP: 0.1 }, rand)).toBe(1);
  });

  it('the same seed gives the same draws; frequencies follow the softmax', () => {
    const draws = (seed: number) => {
      const r = mulberry32(seed);
      return Array.from({ length: 50 }, () => sampleToken(logits, { temperature: 1 }, r));
    };
    expect(draws(9)).toEqual(draws(9));
    expect(draws(9)).not.toEqual(draws(10));
    const rand = mulberry32(11);
    const counts = new Array(5).fill(0);
    const N = 20000;
    for (let i = 0; i < N; i++) counts[sampleToken(logits, { temperature: 1 }, rand)]++;
    const z = Array.from(logits).reduce((s, l) => s + Math.exp(l), 0);
    Array.from(logits).forEach((l, i) => {
      expect(Math.abs(counts[i] / N - Math.exp(l) / z)).toBeLessThan(0.015);
    });
  });

  it('rejects bad options with a typed error', () => {
    expect(() => validateSampling({ temperature: -1 })).toThrow(InvalidArgumentError);
    expect(() => validateSampling({ topK: 1.5 })).toThrow(InvalidArgumentError);
    expect(() => validateSampling({ topP: 0 })).toThrow(InvalidArgumentError);
    expect(() => validateSampling({ topP: 1.2 })).toThrow(InvalidArgumentError);
  });
});
