import { describe, expect, it } from 'vitest';
import { sampleToken, samplingCandidates, validateSampling } from '../../src/engine/sampler.ts';
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

  it('candidates equal a full sort at a 49k vocabulary (top-k, top-p, both, ties)', () => {
    const rand = mulberry32(5);
    const V = 49152;
    const big = new Float32Array(V).map(() => Math.round((rand() + rand() + rand()) * 400) / 100);
    // The sort-based reference: rank by logit then id, cut at k, keep while the mass is below p.
    const reference = (o: { temperature: number; topK?: number; topP?: number }) => {
      let order = Array.from({ length: V }, (_, i) => i).sort((a, b) => big[b] - big[a] || a - b);
      if (o.topK) order = order.slice(0, o.topK);
      const w = order.map((i) => Math.exp((big[i] - big[order[0]]) / o.temperature));
      const total = w.reduce((a, b) => a + b, 0);
      let acc = 0;
      let keep = 0;
      while (keep < w.length && acc < (o.topP ?? 1) * total) acc += w[keep++];
      return order.slice(0, keep).sort((a, b) => a - b);
    };
    for (const o of [
      { temperature: 0.7, topP: 0.9 },
      { temperature: 0.7, topK: 50 },
      { temperature: 1.3, topK: 2000, topP: 0.5 },
      { temperature: 0.05, topP: 0.9 },
    ]) {
      const got = Array.from(samplingCandidates(big, o).ids).sort((a, b) => a - b);
      expect(got.length).toBeGreaterThan(0);
      expect(got).toEqual(reference(o));
    }
    expect(() => samplingCandidates(big, { temperature: 0 })).toThrow(InvalidArgumentError);
  });

  it('rejects bad options with a typed error', () => {
    expect(() => validateSampling({ temperature: -1 })).toThrow(InvalidArgumentError);
    expect(() => validateSampling({ topK: 1.5 })).toThrow(InvalidArgumentError);
    expect(() => validateSampling({ topP: 0 })).toThrow(InvalidArgumentError);
    expect(() => validateSampling({ topP: 1.2 })).toThrow(InvalidArgumentError);
  });
});
