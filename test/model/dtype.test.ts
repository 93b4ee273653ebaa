import { describe, expect, it } from 'vitest';
import {
  bf16BitsToF32,
  decodeToF32,
  encodeFromF32,
  f16BitsToF32,
  f32ToBf16Bits,
  f32ToF16Bits,
  packHalfRows,
} from '../../src/model/weights/dtype.ts';

const u16Bytes = (bits: number[]): Uint8Array => new Uint8Array(new Uint16Array(bits).buffer);

describe('F16 decode', () => {
  const known: [number, number][] = [
    [0x0000, 0],
    [0x3c00, 1],
    [0xc000, -2],
    [0x3555, 0.333251953125],
    [0x7bff, 65504], // largest normal
    [0x0400, 2 ** -14], // smallest normal
    [0x0001, 2 ** -24], // smallest subnormal
    [0x03ff, 1023 * 2 ** -24], // largest subnormal
    [0x8001, -(2 ** -24)],
    [0x7c00, Number.POSITIVE_INFINITY],
    [0xfc00, Number.NEGATIVE_INFINITY],
  ];

  it.each(known)('bits %d decode exactly', (bits, value) => {
    expect(f16BitsToF32(bits)).toBe(value);
    expect(decodeToF32(u16Bytes([bits]), 'F16')[0]).toBe(value);
  });

  it('keeps NaN and the sign of zero', () => {
    expect(decodeToF32(u16Bytes([0x7e00, 0x7c01, 0xfe00]), 'F16').every(Number.isNaN)).toBe(true);
    expect(Object.is(decodeToF32(u16Bytes([0x8000]), 'F16')[0], -0)).toBe(true);
  });

  it('decodes unaligned byte views', () => {
    const buf = new Uint8Array(5);
    buf.set(u16Bytes([0x3c00, 0xc000]), 1);
    expect([...decodeToF32(buf.subarray(1), 'F16')]).toEqual([1, -2]);
  });

  it('encodes every finite half back to its own bits', () => {
    for (let h = 0; h < 65536; h++) {
      if ((h & 0x7c00) === 0x7c00 && h & 0x3ff) continue; // NaN payloads
      expect(f32ToF16Bits(f16BitsToF32(h))).toBe(h);
    }
  });

  it('rounds to nearest even, overflows to inf and underflows to zero', () => {
    expect(f32ToF16Bits(1 + 2 ** -11)).toBe(0x3c00); // tie → even
    expect(f32ToF16Bits(1 + 3 * 2 ** -11)).toBe(0x3c02); // tie → even (up)
    expect(f32ToF16Bits(65520)).toBe(0x7c00);
    expect(f32ToF16Bits(2 ** -26)).toBe(0);
    expect(f32ToF16Bits(3 * 2 ** -26)).toBe(0x0001);
    expect(f32ToF16Bits(Number.NaN) & 0x7c00).toBe(0x7c00);
  });
});

describe('BF16 decode', () => {
  const known: [number, number][] = [
    [0x3f80, 1],
    [0xc000, -2],
    [0x4049, 3.140625],
    [0x7f7f, 3.3895313892515355e38], // largest finite
    [0x0080, 2 ** -126], // smallest normal
    [0x0001, 2 ** -133], // smallest subnormal
    [0x7f80, Number.POSITIVE_INFINITY],
    [0xff80, Number.NEGATIVE_INFINITY],
  ];

  it.each(known)('bits %d decode exactly', (bits, value) => {
    expect(bf16BitsToF32(bits)).toBe(value);
    expect(decodeToF32(u16Bytes([bits]), 'BF16')[0]).toBe(value);
  });

  it('keeps NaN and rounds to nearest even when encoding', () => {
    expect(Number.isNaN(decodeToF32(u16Bytes([0x7fc0]), 'BF16')[0])).toBe(true);
    expect(Number.isNaN(bf16BitsToF32(f32ToBf16Bits(Number.NaN)))).toBe(true);
    expect(f32ToBf16Bits(1 + 2 ** -8)).toBe(0x3f80); // tie → even
    expect(f32ToBf16Bits(1 + 3 * 2 ** -8)).toBe(0x3f82); // tie → even (up)
    expect(f32ToBf16Bits(1 + 2 ** -8 + 2 ** -20)).toBe(0x3f81);
    expect(f32ToBf16Bits(-3.4e38)).toBe(0xff80); // rounds past the largest finite
  });
});

describe('encodeFromF32 / decodeToF32', () => {
  it('round-trips F32 exactly and F16/BF16 within their precision', () => {
    const v = new Float32Array([0, 1, -1.5, 0.1, 1234.5678, -0.0001, 3e-6]);
    expect(decodeToF32(encodeFromF32(v, 'F32'), 'F32')).toEqual(v);
    const f16 = decodeToF32(encodeFromF32(v, 'F16'), 'F16');
    const bf16 = decodeToF32(encodeFromF32(v, 'BF16'), 'BF16');
    v.forEach((x, i) => {
      expect(Math.abs(f16[i] - x)).toBeLessThanOrEqual(Math.max(Math.abs(x) * 2 ** -11, 2 ** -25));
      expect(Math.abs(bf16[i] - x)).toBeLessThanOrEqual(Math.abs(x) * 2 ** -8);
    });
  });
});

describe('packHalfRows', () => {
  it.each(['F16', 'BF16'] as const)('gives back the exact %s bits of every non-NaN value', (dtype) => {
    const bits = Array.from({ length: 65536 }, (_, b) => b).filter((b) =>
      dtype === 'F16'
        ? (b & 0x7c00) !== 0x7c00 || (b & 0x3ff) === 0
        : (b & 0x7f80) !== 0x7f80 || (b & 0x7f) === 0,
    );
    const values = decodeToF32(u16Bytes(bits), dtype);
    const packed = packHalfRows(values, values.length, dtype);
    expect(Array.from(new Uint16Array(packed.buffer))).toEqual(bits);
  });

  it('packs two values per word along each row and pads an odd row with a zero high half', () => {
    const v = decodeToF32(encodeFromF32(new Float32Array([1, -2, 0.5, 3, 4, 5]), 'BF16'), 'BF16');
    // [2, 3] -> [2, 2] words: (1, -2), (0.5, pad) | (3, 4), (5, pad)
    expect(Array.from(packHalfRows(v, 3, 'BF16'))).toEqual([0xc0003f80, 0x3f00, 0x40804040, 0x40a0]);
    expect(packHalfRows(new Float32Array(0), 5, 'F16')).toHaveLength(0);
    expect(() => packHalfRows(v, 4, 'F16')).toThrow(RangeError);
  });
});
