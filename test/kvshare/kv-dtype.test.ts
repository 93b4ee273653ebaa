import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../src/errors.ts';
import {
  kvBytes,
  kvConvert,
  kvGatherRows,
  kvLength,
  kvToF32,
  resolveKVDtype,
} from '../../src/util/kv-dtype.ts';
import {
  dequantizeQ8,
  isQ8Group,
  q8Code,
  q8GroupFor,
  q8Scales,
  quantizeQ8,
  roundQ8,
} from '../../src/util/kv-q8.ts';

describe('K/V dtype choice and conversion', () => {
  it('defaults to f16 where the head size is a multiple of 4, else f32; an explicit dtype that cannot be is an error', () => {
    expect(resolveKVDtype(undefined, 64)).toBe('f16');
    expect(resolveKVDtype(undefined, 6)).toBe('f32');
    expect(resolveKVDtype('f32', 64)).toBe('f32');
    expect(resolveKVDtype('q8', 8)).toBe('q8');
    expect(resolveKVDtype('q8', 12)).toBe('q8');
    expect(() => resolveKVDtype('f16', 6)).toThrow(InvalidArgumentError);
    expect(() => resolveKVDtype('q8', 6)).toThrow(InvalidArgumentError);
    expect(() => resolveKVDtype('q8', 6)).toThrow(/head size divisible by 4/);
    expect(() => resolveKVDtype('q4' as 'f16', 64)).toThrow(/kvDtype must be one of f32, f16, q8/);
  });

  it('the q8 group of a head is the largest multiple of 4 up to 32 that divides it, so no group spans two heads', () => {
    const cases: [number, number | undefined][] = [
      [8, 8],
      [12, 12],
      [16, 16],
      [48, 24],
      [64, 32],
      [80, 20],
      [96, 32],
      [128, 32],
      [256, 32],
      [6, undefined],
      [10, undefined],
    ];
    for (const [hd, g] of cases) {
      expect(q8GroupFor(hd), `head ${hd}`).toBe(g);
      if (g !== undefined) expect(hd % g).toBe(0);
    }
    expect([4, 8, 28, 32].every(isQ8Group)).toBe(true);
    expect([0, 2, 6, 33, 36, 8.5, '8'].some(isQ8Group)).toBe(false);
  });

  it('f32 → f16 → f32 keeps each value within half an ulp of a half; f16 → f32 → f16 is the identity', () => {
    const a = Float32Array.from({ length: 1000 }, (_, i) => Math.sin(i) * 10 ** ((i % 9) - 4));
    const h = kvConvert(a, 0, 'f16', 0);
    expect(h).toBeInstanceOf(Uint16Array);
    const back = kvToF32(h, 0);
    for (let i = 0; i < a.length; i++) {
      expect(Math.abs(back[i] - a[i])).toBeLessThanOrEqual(Math.max(2 ** -25, Math.abs(a[i]) * 2 ** -11));
    }
    expect(Array.from(kvConvert(back, 0, 'f16', 0))).toEqual(Array.from(h));
    expect(kvConvert(a, 0, 'f32', 0)).toBe(a);
  });

  it.each([32, 8, 24, 16])(
    'q8 in groups of %i: G + 4 bytes per G values, each value within half a step (max |x| / 254) of its group; q8 → f32 → q8 is the identity',
    (G) => {
      const a = Float32Array.from(
        { length: 96 * 10 },
        (_, i) => Math.sin(i * 1.7) * 10 ** ((Math.floor(i / G) % 7) - 3),
      );
      a.fill(0, 2 * G, 3 * G); // an all-zero group: scale 0, codes 0
      const q = kvConvert(a, 0, 'q8', G);
      expect(q).toBeInstanceOf(Uint8Array);
      expect(q.length).toBe(kvLength('q8', a.length, G));
      expect(kvBytes('q8', a.length, G)).toBe((a.length / G) * (G + 4));
      const scales = q8Scales(q as Uint8Array, G);
      expect(scales.length).toBe(a.length / G);
      expect(scales[2]).toBe(0);
      const back = kvToF32(q, G);
      for (let g = 0; g < a.length / G; g++) {
        let amax = 0;
        for (let t = 0; t < G; t++) amax = Math.max(amax, Math.abs(a[g * G + t]));
        expect(scales[g]).toBe(Math.fround(amax / 127));
        for (let t = 0; t < G; t++) {
          const i = g * G + t;
          expect(Math.abs(back[i] - a[i])).toBeLessThanOrEqual(amax / 254 + amax * 2 ** -22);
        }
      }
      expect(Array.from(quantizeQ8(back, G))).toEqual(Array.from(q));
      expect(Array.from(kvConvert(q, G, 'f16', 0))).toEqual(Array.from(kvConvert(back, 0, 'f16', 0)));
      expect(Array.from(roundQ8(a, G))).toEqual(Array.from(back));
      expect(kvConvert(q, G, 'q8', G)).toBe(q);
      expect(() => quantizeQ8(new Float32Array(G + 4), G)).toThrow(RangeError);
    },
  );

  it('q8 of one group converts to another from the values it holds (G = 32 → 8 → 32)', () => {
    const a = Float32Array.from({ length: 64 * 3 }, (_, i) => Math.cos(i * 0.9) * (1 + (i % 32)));
    const q32 = kvConvert(a, 0, 'q8', 32);
    const q8of32 = kvConvert(q32, 32, 'q8', 8);
    expect(q8of32.length).toBe((a.length / 8) * 12);
    expect(Array.from(q8of32)).toEqual(Array.from(quantizeQ8(kvToF32(q32, 32), 8)));
    // a group of 8 only narrows each value's step: within half a step of the 32-group's values
    const held = kvToF32(q32, 32);
    const back = kvToF32(q8of32, 8);
    const scales = q8Scales(q8of32 as Uint8Array, 8);
    for (let i = 0; i < a.length; i++) {
      expect(Math.abs(back[i] - held[i])).toBeLessThanOrEqual(scales[i >> 3] / 2 + 1e-6);
    }
    expect(Array.from(kvConvert(q8of32, 8, 'q8', 32))).toEqual(Array.from(quantizeQ8(back, 32)));
    expect(() => quantizeQ8(a, 6)).toThrow(/multiple of 4/);
    expect(() => dequantizeQ8(new Uint8Array(13), 8)).toThrow(/not whole q8 groups of 8/);
    expect(() => dequantizeQ8(new Uint8Array(12), 6)).toThrow(RangeError);
  });

  it('q8 codes round half to even and clamp to ±127 (as WGSL round)', () => {
    expect(q8Code(2.5, 1)).toBe(2);
    expect(q8Code(3.5, 1)).toBe(4);
    expect(q8Code(-2.5, 1)).toBe(-2);
    expect(q8Code(-3.5, 1)).toBe(-4);
    expect(q8Code(200, 1)).toBe(127);
    expect(q8Code(-200, 1)).toBe(-127);
    expect(q8Code(5, 0)).toBe(0);
    for (const G of [32, 8]) {
      expect(Array.from(dequantizeQ8(quantizeQ8(new Float32Array(G).fill(-3), G), G))).toEqual(
        Array(G).fill(-3),
      );
    }
  });

  it('kvGatherRows picks whole rows of any dtype', () => {
    const width = 64;
    const a = Float32Array.from({ length: 5 * width }, (_, i) => i - 100);
    for (const [d, G] of [
      ['f32', 0],
      ['f16', 0],
      ['q8', 32],
      ['q8', 8],
      ['q8', 16],
    ] as const) {
      const s = kvConvert(a, 0, d, G);
      const got = kvToF32(kvGatherRows(s, width, [4, 1], G), G);
      const all = kvToF32(s, G);
      expect(Array.from(got)).toEqual([
        ...all.subarray(4 * width, 5 * width),
        ...all.subarray(width, 2 * width),
      ]);
    }
  });
});
