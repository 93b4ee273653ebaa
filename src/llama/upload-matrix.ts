import { TensorTooLargeError } from '../errors.ts';
import { uploadF32, uploadU32 } from '../gpu/buffers.ts';
import { f32Values, type HostTensor, tensorHostBytes } from '../model/types.ts';
import { packHalfRows, weightFormat } from '../model/weights/dtype.ts';
import { sliceQ6kRows } from '../model/weights/q6k.ts';
import { sliceQuantRows } from '../model/weights/quantize.ts';
import { isQuantFormat, rowBytes, type WeightFormat, type WeightPart } from '../ops/weight-format.ts';

/** Rows per part so that each part fits one storage binding; throws if a single row cannot. */
export function rowsPerPart(
  name: string,
  rows: number,
  cols: number,
  maxBindingBytes: number,
  format: WeightFormat = 'f32',
): number {
  const bytes = rowBytes(cols, format);
  if (bytes > maxBindingBytes) {
    throw new TensorTooLargeError(
      `Tensor ${name}: one row (${bytes} B) exceeds this device's maxStorageBufferBindingSize (${maxBindingBytes} B).`,
    );
  }
  // A quantized part may need 24 bytes beyond its rows' (see rowBytes).
  const room = isQuantFormat(format) || format === 'q6k' ? maxBindingBytes - 24 : maxBindingBytes;
  return Math.max(1, Math.min(rows, Math.floor(room / bytes)));
}

/**
 * Uploads a 2-D weight [rows, cols] in row parts that each fit one storage binding: f32 data as
 * f32 (16-bit checkpoints re-packed to 16 bits), or its `packed` words as they are (16-bit) or
 * sliced by rows (quantized). See WeightFormat for the layouts.
 */
export function uploadMatrix(device: GPUDevice, t: HostTensor, maxBindingBytes: number): WeightPart[] {
  const [rows, cols] = t.shape;
  const format = t.packed?.format ?? weightFormat(t.dtype);
  const per = rowsPerPart(t.name, rows, cols, maxBindingBytes, format);
  const parts: WeightPart[] = [];
  for (let r0 = 0; r0 < rows; r0 += per) {
    const n = Math.min(per, rows - r0);
    const label = `${t.name}[${r0}:${r0 + n}]`;
    parts.push({ buffer: uploadRows(device, t, r0, n, label), rowStart: r0, rows: n, format });
  }
  return parts;
}

function uploadRows(device: GPUDevice, t: HostTensor, r0: number, n: number, label: string): GPUBuffer {
  const [rows, cols] = t.shape;
  const w = t.packed;
  if (w && isQuantFormat(w.format)) {
    return uploadU32(device, sliceQuantRows(w.words, rows, cols, w.format, r0, n), label); // [n, cols] quantized
  }
  if (w?.format === 'q6k') return uploadU32(device, sliceQ6kRows(w.words, rows, cols, r0, n), label); // [n, cols] q6k
  const words = Math.ceil(cols / 2);
  if (w) return uploadU32(device, w.words.subarray(r0 * words, (r0 + n) * words), label); // [n, words] u32
  const values = f32Values(t).subarray(r0 * cols, (r0 + n) * cols); // [n, cols] f32
  if (t.dtype === 'F32') return uploadF32(device, values, label);
  return uploadU32(device, packHalfRows(values, cols, t.dtype), label);
}

/**
 * For LoadModelOptions.onTensor: a 2-D weight is uploaded as soon as it has streamed in and only
 * its GPU parts are kept (host memory then holds one tensor at a time); vectors stay on the host.
 */
export function uploadWhileStreaming(
  device: GPUDevice,
  maxBindingBytes: number,
): (t: HostTensor) => HostTensor {
  return (t) => {
    if (t.shape.length !== 2) return t;
    const bytes = tensorHostBytes(t);
    const parts = uploadMatrix(device, t, maxBindingBytes);
    return { name: t.name, shape: t.shape, dtype: t.dtype, gpu: { parts, hostBytes: bytes } };
  };
}
