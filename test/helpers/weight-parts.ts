// W [outDim, K] in any weight format as row parts on the GPU, with the exact values the kernels read:
// the weights of the matmul and embedding kernel tests and of the GPU check kit's kernel part.
import { quantizeGgml } from '../../src/model/gguf/gguf-quantize.ts';
import { decodeToF32, encodeFromF32, packHalfRows } from '../../src/model/weights/dtype.ts';
import { dequantizeQ6k, repackQ6K } from '../../src/model/weights/q6k.ts';
import { dequantizeRows, quantizeRows } from '../../src/model/weights/quantize.ts';
import { isQuantFormat, type WeightFormat, type WeightPart } from '../../src/ops/weight-format.ts';
import type { KernelHarness } from './gpu.ts';

/** W [outDim, K] in `format` as `nParts` row parts on the GPU, and the exact values the kernels read. */
export function weightParts(
  h: KernelHarness,
  w: Float32Array, // [outDim, K]
  K: number,
  nParts: number,
  format: WeightFormat,
): { parts: WeightPart[]; exact: Float32Array } {
  const outDim = w.length / K;
  const per = Math.ceil(outDim / nParts);
  const parts: WeightPart[] = [];
  const exact = new Float32Array(w.length); // [outDim, K]
  for (let r0 = 0; r0 < outDim; r0 += per) {
    const rows = Math.min(per, outDim - r0);
    const v = w.subarray(r0 * K, (r0 + rows) * K);
    let words: Uint32Array;
    if (format === 'q6k') {
      words = repackQ6K('w', quantizeGgml(v, 'Q6_K'), rows, K);
      exact.set(dequantizeQ6k(words, rows, K), r0 * K);
    } else if (isQuantFormat(format)) {
      words = quantizeRows(v, K, format);
      exact.set(dequantizeRows(words, rows, K, format), r0 * K);
    } else if (format === 'f32') {
      words = new Uint32Array(v.slice().buffer);
      exact.set(v, r0 * K);
    } else {
      const dtype = format === 'bf16' ? 'BF16' : 'F16';
      words = packHalfRows(v, K, dtype);
      exact.set(decodeToF32(encodeFromF32(v, dtype), dtype), r0 * K);
    }
    parts.push({ buffer: h.u32(words), rowStart: r0, rows, format });
  }
  return { parts, exact };
}
