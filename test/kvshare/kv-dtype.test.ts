import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../src/errors.ts';
import { kvConvert, kvToF32, resolveKVDtype } from '../../src/util/kv-dtype.ts';

describe('K/V dtype choice and conversion', () => {
  it('defaults to f16 where the head size is a multiple of 4, else f32; an explicit f16 that cannot be is an error', () => {
    expect(resolveKVDtype(undefined, 64)).toBe('f16');
    expect(resolveKVDtype(undefined, 6)).toBe('f32');
    expect(resolveKVDtype('f32', 64)).toBe('f32');
    expect(() => resolveKVDtype('f16', 6)).toThrow(InvalidArgumentError);
    expect(() => resolveKVDtype('q4' as 'f16', 64)).toThrow(/kvDtype must be one of f32, f16/);
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
});
