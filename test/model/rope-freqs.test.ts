import { describe, expect, it } from 'vitest';
import { ropeInvFreqs } from '../../src/model/rope-freqs.ts';

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
