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
import { dequantizeQ8, q8Code, q8Scales, quantizeQ8, roundQ8 } from '../../src/util/kv-q8.ts';

describe('K/V dtype choice and conversion', () => {
  it('defaults to f16 where the head size is a multiple of 4, else f32; an explicit dtype that cannot be is an error', () => {
    expect(resolveKVDtype(undefined, 64, 192)).toBe('f16');
    expect(resolveKVDtype(undefined, 6, 12)).toBe('f32');
    expect(resolveKVDtype('f32', 64, 192)).toBe('f32');
    expect(resolveKVDtype('q8', 8, 32)).toBe('q8');
    expect(() => resolveKVDtype('f16', 6, 12)).toThrow(InvalidArgumentError);
    expect(() => resolveKVDtype('q8', 12, 36)).toThrow(/divisible by 32/);
    expect(() => resolveKVDtype('q4' as 'f16', 64, 192)).toThrow(/kvDtype must be one of f32, f16, q8/);
  });

  it('f32 → f16 → f32 keeps each value within half an ulp of a half; f16 → f32 → f16 is the identity', () => {
    const a = Float32Array.from({ length: 1000 }, (_, i) => Math.sin(i) * 10 ** ((i % 9) - 4));
    const h = kvConvert(a, 'f16');
    expect(h).toBeInstanceOf(Uint16Array);
    const back = kvToF32(h);
    for (let i = 0; i < a.length; i++) {
      expect(Math.abs(back[i] - a[i])).toBeLessThanOrEqual(Math.max(2 ** -25, Math.abs(a[i]) * 2 ** -11));
    }
    expect(Array.from(kvConvert(back, 'f16'))).toEqual(Array.from(h));
    expect(kvConvert(a, 'f32')).toBe(a);
  });

  it('q8: 36 bytes per 32 values, each value within half a step (max |x| / 254) of its group; q8 → f32 → q8 is the identity', () => {
    const a = Float32Array.from(
      { length: 32 * 40 },
      (_, i) => Math.sin(i * 1.7) * 10 ** (((i >> 5) % 7) - 3),
    );
    a.fill(0, 64, 96); // an all-zero group: scale 0, codes 0
    const q = kvConvert(a, 'q8');
    expect(q).toBeInstanceOf(Uint8Array);
    expect(q.length).toBe(kvLength('q8', a.length));
    expect(kvBytes('q8', a.length)).toBe((a.length / 32) * 36);
    const scales = q8Scales(q as Uint8Array);
    expect(scales[2]).toBe(0);
    const back = kvToF32(q);
    for (let g = 0; g < a.length / 32; g++) {
      let amax = 0;
      for (let t = 0; t < 32; t++) amax = Math.max(amax, Math.abs(a[g * 32 + t]));
      expect(scales[g]).toBe(Math.fround(amax / 127));
      for (let t = 0; t < 32; t++) {
        const i = g * 32 + t;
        expect(Math.abs(back[i] - a[i])).toBeLessThanOrEqual(amax / 254 + amax * 2 ** -22);
      }
    }
    expect(Array.from(quantizeQ8(back))).toEqual(Array.from(q));
    expect(Array.from(kvConvert(q, 'f16'))).toEqual(Array.from(kvConvert(back, 'f16')));
    expect(Array.from(roundQ8(a))).toEqual(Array.from(back));
    expect(() => quantizeQ8(new Float32Array(33))).toThrow(RangeError);
  });

  it('q8 codes round half to even and clamp to ±127 (as WGSL round)', () => {
    expect(q8Code(2.5, 1)).toBe(2);
    expect(q8Code(3.5, 1)).toBe(4);
    expect(q8Code(-2.5, 1)).toBe(-2);
    expect(q8Code(-3.5, 1)).toBe(-4);
    expect(q8Code(200, 1)).toBe(127);
    expect(q8Code(-200, 1)).toBe(-127);
    expect(q8Code(5, 0)).toBe(0);
    expect(Array.from(dequantizeQ8(quantizeQ8(new Float32Array(32).fill(-3))))).toEqual(Array(32).fill(-3));
  });

  it('kvGatherRows picks whole rows of any dtype', () => {
    const width = 64;
    const a = Float32Array.from({ length: 5 * width }, (_, i) => i - 100);
    for (const d of ['f32', 'f16', 'q8'] as const) {
      const s = kvConvert(a, d);
      const got = kvToF32(kvGatherRows(s, width, [4, 1]));
      const all = kvToF32(s);
      expect(Array.from(got)).toEqual([
        ...all.subarray(4 * width, 5 * width),
        ...all.subarray(width, 2 * width),
      ]);
    }
  });
});
