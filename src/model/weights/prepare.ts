import { ModelFormatError } from '../../errors.ts';
import type { DType, HostTensor, QuantizeOption } from '../types.ts';
import { decodeToF32, weightFormat } from './dtype.ts';
import { quantizeRows } from './quantize.ts';

/** How tensors are kept on the host after they stream in. */
export interface WeightPrep {
  /** 'f32': every tensor decoded to f32 (references, tests). 'gpu': 2-D weights in their GPU form
   * straight away (16-bit ones as the file's bits, or quantized), so the f32 model never exists. */
  keep: 'f32' | 'gpu';
  quantize?: QuantizeOption;
}

/**
 * One tensor's raw little-endian checkpoint bytes as a HostTensor. With `keep: 'gpu'`, a 2-D tensor
 * becomes `packed`: quantized when asked (decoded to f32 one tensor at a time first), else F16 / BF16
 * bits taken as they are (no decode, no re-encode), else f32. Throws ModelFormatError on a NaN or ±Inf.
 */
export function prepareTensor(
  raw: Uint8Array,
  entry: { name: string; shape: number[]; dtype: DType },
  prep: WeightPrep,
): HostTensor {
  const { name, shape, dtype } = entry;
  const matrix = prep.keep === 'gpu' && shape.length === 2;
  if (matrix && !prep.quantize && dtype !== 'F32') {
    const bits = halves(raw);
    checkFiniteHalves(name, bits, dtype);
    const words = packHalfBits(bits, shape[1]);
    return { name, shape, dtype, packed: { format: weightFormat(dtype), words } };
  }
  const data = dtype === 'F32' && raw.byteOffset % 4 === 0 ? f32View(raw) : decodeToF32(raw, dtype);
  checkFinite(name, data);
  if (!matrix || !prep.quantize) return { name, shape, dtype, data };
  let words: Uint32Array;
  try {
    words = quantizeRows(data, shape[1], prep.quantize);
  } catch (e) {
    // Finite values whose scale overflows the format's storage (e.g. 1e7 in q8: f16 scales).
    if (!(e instanceof RangeError)) throw e;
    throw new ModelFormatError(
      `Tensor ${name} cannot be quantized to ${prep.quantize}: ${e.message} (its values are too large for the format).`,
      { cause: e },
    );
  }
  return { name, shape, dtype, packed: { format: prep.quantize, words } };
}

function f32View(raw: Uint8Array): Float32Array {
  return new Float32Array(raw.buffer, raw.byteOffset, raw.byteLength / 4);
}

function halves(raw: Uint8Array): Uint16Array {
  if (raw.byteOffset % 2 === 0) return new Uint16Array(raw.buffer, raw.byteOffset, raw.byteLength / 2);
  return new Uint16Array(raw.slice().buffer);
}

/**
 * 16-bit values [rows, cols] as [rows, ceil(cols / 2)] u32, two per word (element 2j low): for an
 * even `cols` that is the same bytes (a view when aligned, no copy); an odd row gets a zero high half.
 */
export function packHalfBits(bits: Uint16Array, cols: number): Uint32Array {
  if (cols % 2 === 0) {
    if (bits.byteOffset % 4 === 0) return new Uint32Array(bits.buffer, bits.byteOffset, bits.length / 2);
    return new Uint32Array(bits.slice().buffer);
  }
  const rows = bits.length / cols;
  const words = (cols + 1) / 2;
  const out = new Uint32Array(rows * words);
  const out16 = new Uint16Array(out.buffer);
  for (let r = 0; r < rows; r++) out16.set(bits.subarray(r * cols, (r + 1) * cols), r * words * 2);
  return out;
}

/** NaN or ±Inf in a weight poisons every answer: refuse the checkpoint (one pass, cheaper than the digest). */
function checkFinite(name: string, data: Float32Array): void {
  for (let i = 0; i < data.length; i++) {
    if (!Number.isFinite(data[i])) {
      throw new ModelFormatError(`Tensor ${name} holds a non-finite value (${data[i]}) at index ${i}.`);
    }
  }
}

/** checkFinite on 16-bit bits: an all-ones exponent is ±Inf or NaN. */
function checkFiniteHalves(name: string, bits: Uint16Array, dtype: DType): void {
  const exp = dtype === 'F16' ? 0x7c00 : 0x7f80;
  for (let i = 0; i < bits.length; i++) {
    if ((bits[i] & exp) === exp) {
      const v = decodeToF32(new Uint8Array(bits.slice(i, i + 1).buffer), dtype)[0];
      throw new ModelFormatError(`Tensor ${name} holds a non-finite value (${v}) at index ${i}.`);
    }
  }
}
