import { describe, expect, it } from 'vitest';
import { partialRotaryRows, ropeAttentionFactor, ropeInvFreqs } from '../../src/model/rope-freqs.ts';

// Llama-3.2-1B: head_dim 64, rope_theta 500000, llama3 scaling (factor 32, low 1, high 4, original 8192).
const LLAMA32 = {
  type: 'llama3' as const,
  factor: 32,
  lowFreqFactor: 1,
  highFreqFactor: 4,
  originalMaxPositions: 8192,
};

describe('ropeInvFreqs', () => {
  it('plain: theta^(-2i/headDim)', () => {
    const f = ropeInvFreqs(64, 500000);
    expect(f).toHaveLength(32);
    expect(f[0]).toBe(1);
    expect(f[16]).toBeCloseTo(500000 ** -0.5, 15);
  });

  it("llama3: transformers' values for Llama 3.2 (short wavelengths kept, long ones / 32, a blend between)", () => {
    const f = ropeInvFreqs(64, 500000, LLAMA32);
    // Expected values computed apart from this code (Python, transformers' _compute_llama3_parameters).
    const want: [number, number][] = [
      [0, 1.0],
      [14, 0.0032114459947525913],
      [15, 0.001290547928209264],
      [16, 0.00042955679655936815],
      [31, 9.418306725434909e-8],
    ];
    for (const [i, v] of want) expect(f[i] / v).toBeCloseTo(1, 12);
  });

  it('linear divides every frequency by the factor; divisors (llama.cpp rope_freqs) one by one', () => {
    const plain = ropeInvFreqs(16, 10000);
    const lin = ropeInvFreqs(16, 10000, { type: 'linear', factor: 4 });
    for (const [i, p] of plain.entries()) expect(lin[i]).toBeCloseTo(p / 4, 15);
    const divisors = [1, 1, 2, 3, 4, 5, 6, 8];
    const d = ropeInvFreqs(16, 10000, { type: 'divisors', divisors });
    for (const [i, p] of plain.entries()) expect(d[i]).toBeCloseTo(p / divisors[i], 15);
    expect(() => ropeInvFreqs(16, 10000, { type: 'divisors', divisors: [1, 2] })).toThrow(RangeError);
  });

  it("llama3 equals llama.cpp's converter divisors: 1 / ((1 - smooth) / factor + smooth)", () => {
    const plain = ropeInvFreqs(64, 500000);
    const scaled = ropeInvFreqs(64, 500000, LLAMA32);
    plain.forEach((p, i) => {
      const wavelen = (2 * Math.PI) / p;
      const smooth = (8192 / wavelen - 1) / (4 - 1);
      const divisor = wavelen < 2048 ? 1 : wavelen > 8192 ? 32 : 1 / ((1 - smooth) / 32 + smooth);
      expect(p / scaled[i]).toBeCloseTo(divisor, 10);
    });
  });
});

describe('partial rotary and longrope', () => {
  it('partial: theta^(-2i/rotaryDim) for the rotated pairs, 0 (no turn) past them', () => {
    const f = ropeInvFreqs(16, 10000, undefined, { rotaryDim: 12 });
    expect(f).toHaveLength(8);
    expect(f[1]).toBeCloseTo(10000 ** (-2 / 12), 15);
    expect(Array.from(f.subarray(6))).toEqual([0, 0]);
  });

  it('longrope: short factors up to the original context, long ones past it', () => {
    const scaling = {
      type: 'longrope' as const,
      shortFactor: [1, 2, 3],
      longFactor: [4, 5, 6],
      originalMaxPositions: 64,
      attentionFactor: 1.2,
    };
    const plain = ropeInvFreqs(8, 100, undefined, { rotaryDim: 6 });
    const short = ropeInvFreqs(8, 100, scaling, { rotaryDim: 6, contextLength: 64 });
    const long = ropeInvFreqs(8, 100, scaling, { rotaryDim: 6, contextLength: 65 });
    for (let i = 0; i < 3; i++) {
      expect(short[i]).toBeCloseTo(plain[i] / (i + 1), 15);
      expect(long[i]).toBeCloseTo(plain[i] / (i + 4), 15);
    }
    expect(short[3]).toBe(0);
    expect(ropeAttentionFactor(scaling)).toBe(1.2);
    expect(ropeAttentionFactor(undefined)).toBe(1);
  });

  it('partialRotaryRows is a permutation pairing rotated dims (i, i + r/2) as (j, j + hd/2)', () => {
    const from = partialRotaryRows(8, 4);
    expect(Array.from(from)).toEqual([0, 1, 4, 5, 2, 3, 6, 7]);
    expect([...from].sort()).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(Array.from(partialRotaryRows(6, 6))).toEqual([0, 1, 2, 3, 4, 5]);
  });
});
