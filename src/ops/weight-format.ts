/**
 * How a 2-D weight [rows, cols] sits on the GPU: 'f32' as [rows, cols] f32; 'f16' / 'bf16' as its
 * checkpoint's 16-bit values, two per u32 along each row, [rows, ceil(cols / 2)] u32 (element 2j in
 * the low half of word j; an odd row's last high half is zero). Kernels widen them to f32 in registers.
 * The quantized formats (QUANT_FORMATS) cut each row into groups of 32 values (the last one padded
 * with zero codes) and store, one region after the other in one buffer:
 *   codes  [rows, G, 32 * bits / 32] u32 (G = ceil(cols / 32)): 4-bit code 8j + n in bits 4n.. of
 *          word j of its group; 8-bit (two's complement) code 4j + n in byte n of word j;
 *   scales [rows * G]: f16 two per u32 (group 2i low half), or f32;
 *   mins   [rows * G] (formats with a per-group minimum only), as the scales.
 * A value is scale * (code - zero) + min, zero = 8 for 4-bit codes without a minimum, else 0.
 * 'q6k' holds GGUF Q6_K super-blocks of 256 values along each row (cols % 256 == 0), B = cols / 256
 * per row, nb = rows * B, regions one after the other (q6kLayout):
 *   ql [nb, 32] u32 and qh [nb, 16] u32: the block's low 4 and high 2 bits of each 6-bit code, bytes
 *        as in GGUF; scales [nb, 4] u32: 16 int8 scales, one per 16 values; d [nb] f32 (the f16 d).
 * Value e of a block: n = e >> 7, k = (e >> 5) & 3, l = e & 31; low bits = nibble k >> 1 of ql byte
 * 64n + 32(k & 1) + l, high bits = bits 2k.. of qh byte 32n + l; value = (d · scale[e >> 4]) · (q − 32).
 */
import { InternalError } from '../errors.ts';
export type WeightFormat = 'f32' | 'f16' | 'bf16' | QuantFormat | 'q6k';

/** q8: 8-bit, f16 scale (GGUF Q8_0); q4: 4-bit, f16 scale (Q4_0); q4m: 4-bit, f16 scale and min
 * (Q4_1); q4_f32 / q4m_f32: the same with f32 scales (and mins), exact for re-packed K-quants. */
export type QuantFormat = 'q8' | 'q4' | 'q4m' | 'q4_f32' | 'q4m_f32';

export interface QuantSpec {
  bits: 4 | 8;
  /** Scales (and mins) as f32; else f16. */
  scale32: boolean;
  hasMin: boolean;
}

export const QUANT_GROUP = 32;

export const QUANT_FORMATS: Record<QuantFormat, QuantSpec> = {
  q8: { bits: 8, scale32: false, hasMin: false },
  q4: { bits: 4, scale32: false, hasMin: false },
  q4m: { bits: 4, scale32: false, hasMin: true },
  q4_f32: { bits: 4, scale32: true, hasMin: false },
  q4m_f32: { bits: 4, scale32: true, hasMin: true },
};

export function isQuantFormat(f: string): f is QuantFormat {
  return Object.hasOwn(QUANT_FORMATS, f);
}

/** The override constants of quant_prelude.wgsl for a quantized format. */
export function quantConstants(format: QuantFormat): Record<string, number> {
  const s = QUANT_FORMATS[format];
  return { BITS: s.bits, SCALE32: s.scale32 ? 1 : 0, HAS_MIN: s.hasMin ? 1 : 0 };
}

/** Word offsets of the regions of a quantized [rows, cols] weight (see WeightFormat). */
export interface QuantLayout {
  groups: number; // G per row
  codeWords: number; // words of codes per group
  scaleBase: number;
  minBase: number;
  words: number; // total, a multiple of 4
}

export function quantLayout(rows: number, cols: number, format: QuantFormat): QuantLayout {
  const s = QUANT_FORMATS[format];
  const groups = Math.ceil(cols / QUANT_GROUP);
  const codeWords = s.bits; // 32 codes of `bits` bits = `bits` words
  const paramWords = s.scale32 ? rows * groups : Math.ceil((rows * groups) / 2);
  const scaleBase = rows * groups * codeWords;
  const minBase = scaleBase + paramWords;
  // Whole vec4<u32>s: the kernels bind the buffer as array<vec4<u32>>, whose length rounds down.
  const words = Math.ceil((minBase + (s.hasMin ? paramWords : 0)) / 4) * 4;
  return { groups, codeWords, scaleBase, minBase, words };
}

/** Values per Q6_K super-block. */
export const Q6K_BLOCK = 256;

/** Word offsets of the regions of a q6k [rows, cols] weight (see WeightFormat). */
export interface Q6kLayout {
  blocks: number; // B per row
  qhBase: number;
  scaleBase: number;
  dBase: number;
  words: number; // total, a multiple of 4
}

export function q6kLayout(rows: number, cols: number): Q6kLayout {
  const blocks = cols / Q6K_BLOCK;
  const nb = rows * blocks;
  return { blocks, qhBase: nb * 32, scaleBase: nb * 48, dBase: nb * 52, words: Math.ceil((nb * 53) / 4) * 4 };
}

/**
 * Bytes of one row of `cols` values in `format` on the GPU. Quantized formats: the row's codes,
 * scales and mins; a buffer of them may need up to 24 more bytes (odd counts of f16 scales and mins,
 * and padding to whole 16-byte vectors); q6k: 212 bytes per 256 values (a buffer: up to 12 more).
 */
export function rowBytes(cols: number, format: WeightFormat): number {
  if (format === 'f32') return cols * 4;
  if (format === 'f16' || format === 'bf16') return Math.ceil(cols / 2) * 4;
  if (format === 'q6k') return (cols / Q6K_BLOCK) * 53 * 4;
  const s = QUANT_FORMATS[format];
  const groups = Math.ceil(cols / QUANT_GROUP);
  return groups * (s.bits * 4 + (s.scale32 ? 4 : 2) * (s.hasMin ? 2 : 1));
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
  if (parts.some((p) => p.format !== f))
    throw new InternalError(`internal error: ${label}: weight parts differ in format`);
  return f;
}
