import type { DType } from '../model/types.ts';

/**
 * How a 2-D weight [rows, cols] sits on the GPU: 'f32' as [rows, cols] f32; 'f16' / 'bf16' as its
 * checkpoint's 16-bit values, two per u32 along each row, [rows, ceil(cols / 2)] u32 (element 2j in
 * the low half of word j; an odd row's last high half is zero). Kernels widen them to f32 in registers.
 */
export type WeightFormat = 'f32' | 'f16' | 'bf16';

/** 16-bit checkpoint tensors stay 16-bit on the GPU (half the bytes); F32 ones stay f32. */
export function weightFormat(dtype: DType): WeightFormat {
  return dtype === 'F16' ? 'f16' : dtype === 'BF16' ? 'bf16' : 'f32';
}

/** Bytes of one row of `cols` values in `format` on the GPU. */
export function rowBytes(cols: number, format: WeightFormat): number {
  return format === 'f32' ? cols * 4 : Math.ceil(cols / 2) * 4;
}

/** A contiguous block of rows [rowStart, rowStart + rows) of a 2-D weight, in its own buffer. */
export interface WeightPart {
  buffer: GPUBuffer; // [rows, cols] in `format` (see WeightFormat)
  rowStart: number;
  rows: number;
  format: WeightFormat;
}

/** The format shared by all parts of one weight (throws if they differ). */
export function partsFormat(parts: WeightPart[], label: string): WeightFormat {
  const f = parts[0]?.format ?? 'f32';
  if (parts.some((p) => p.format !== f)) throw new Error(`${label}: weight parts differ in format`);
  return f;
}
