// What every kernel check shares: the result row, the kernel contexts to run (the adapter's own
// selection and the variants forced on it), the weights in each format, and the comparison.

import { quantizeGgml } from '../../../src/model/gguf/gguf-quantize.ts';
import { decodeToF32, encodeFromF32, packHalfRows } from '../../../src/model/weights/dtype.ts';
import { dequantizeQ6k, repackQ6K } from '../../../src/model/weights/q6k.ts';
import { dequantizeRows, quantizeRows } from '../../../src/model/weights/quantize.ts';
import type { KernelContext } from '../../../src/ops/context.ts';
import { type GemvSplit, gemvSplit } from '../../../src/ops/matmul.ts';
import { isQuantFormat, type WeightFormat, type WeightPart } from '../../../src/ops/weight-format.ts';
import type { KernelHarness } from '../../../test/helpers/gpu.ts';

/** One kernel run against its reference. */
export interface KernelResult {
  /** The op, e.g. `matmul bf16`, `attention flash`. */
  kernel: string;
  /** The code path, e.g. `gemv subgroup`, `gemm tiles`, `thread`. */
  variant: string;
  /** Whether the adapter's own selection (gemvSplit, k.software) picks this path for this shape. */
  selected: boolean;
  shape: string;
  maxAbsErr: number;
  /** Largest |got - want| / (atol + rtol |want|): <= 1 passes. */
  tolRatio: number;
  pass: boolean;
  ms: number;
}

export const ALL_FORMATS: WeightFormat[] = [
  'f32',
  'bf16',
  'f16',
  'q8',
  'q4',
  'q4m',
  'q4_f32',
  'q4m_f32',
  'q6k',
];

/** A kernel context with the GPU / software path and GEMV split forced, and whether the adapter picks it. */
export interface Variant {
  k: KernelContext;
  split: GemvSplit;
  /** This is what the adapter itself selects. */
  selected: boolean;
}

/**
 * The adapter's own context (split from gemvSplit) plus every other path the selection code knows,
 * forced: GEMV splits thread / shared / subgroup (where the adapter has subgroups), GPU (tiled) and
 * software (thread) GEMMs and attention.
 */
export function variants(h: KernelHarness): Variant[] {
  const own = gemvSplit(h.k);
  const out: Variant[] = [];
  for (const software of [false, true]) {
    const splits: GemvSplit[] = software
      ? ['thread']
      : ['shared', ...(h.k.subgroupSize ? ['subgroup' as const] : [])];
    for (const split of splits) {
      const selected = software === Boolean(h.k.software) && split === own;
      out.push({
        k: { ...h.k, software },
        split,
        selected,
      });
    }
  }
  return out;
}

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

/** max |a - b| and the largest |a - b| / (atol + rtol |b|) (NaN counts as infinite; in JSON: null). */
export function compare(
  got: ArrayLike<number>,
  want: ArrayLike<number>,
  atol: number,
  rtol: number,
): { maxAbsErr: number; tolRatio: number } {
  if (got.length !== want.length) throw new Error(`length ${got.length} != ${want.length}`);
  let maxAbsErr = 0;
  let tolRatio = 0;
  for (let i = 0; i < got.length; i++) {
    const d = Math.abs(got[i] - want[i]);
    if (!(d <= maxAbsErr)) maxAbsErr = Number.isNaN(d) ? Infinity : d;
    const r = d === 0 ? 0 : d / (atol + rtol * Math.abs(want[i])); // exact checks: atol = rtol = 0
    if (!(r <= tolRatio)) tolRatio = Number.isNaN(r) ? Infinity : r;
  }
  return { maxAbsErr, tolRatio };
}

/** A result row from a comparison (several comparisons of one run: the worst of each figure). */
export function result(
  a: Omit<KernelResult, 'maxAbsErr' | 'tolRatio' | 'pass' | 'ms'>,
  t0: number,
  ...cmps: { maxAbsErr: number; tolRatio: number }[]
): KernelResult {
  const maxAbsErr = Math.max(...cmps.map((c) => c.maxAbsErr));
  const tolRatio = Math.max(...cmps.map((c) => c.tolRatio));
  return { ...a, maxAbsErr, tolRatio, pass: tolRatio <= 1, ms: Math.round(performance.now() - t0) };
}
