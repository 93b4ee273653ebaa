// The matmul kernels (src/ops/matmul.ts) per weight format against ref.matmul: the GEMV of one row and
// of a few rows under each work split (thread / shared / subgroup), and the GEMM of many rows on the
// GPU path (shared-memory tiles) and the software path (barrier-free blocks), all with the bias and
// residual-add epilogue (y += W x + b).
import type { KernelContext } from '../../../src/ops/context.ts';
import { GEMV_MAX_ROWS, type GemvSplit, gemvSplit, matmulOps } from '../../../src/ops/matmul.ts';
import type { WeightFormat } from '../../../src/ops/weight-format.ts';
import { type KernelHarness, randn } from '../../../test/helpers/gpu.ts';
import { weightParts } from '../../../test/helpers/weight-parts.ts';
import * as ref from '../../../test/reference/ops.ts';
import { ALL_FORMATS, compare, type KernelResult, result, type Variant, variants } from './common.ts';

export interface MatmulShape {
  name: string;
  K: number;
  out: number;
  parts: number;
  /** Row counts to run (1: GEMV, 2..GEMV_MAX_ROWS: GEMV rows, more: GEMM). */
  rows: number[];
  /** Weight formats to run (default: all; q6k only where K % 256 == 0). */
  formats?: WeightFormat[];
}

/** Formats of the big shapes: each quantized format costs seconds of CPU quantization per million weights. */
const BIG: WeightFormat[] = ['f32', 'bf16', 'f16', 'q8', 'q4', 'q6k'];

/**
 * Real shapes (SmolLM2-135M, Qwen2.5-0.5B; the lm-head's first 8,192 rows) with every format on the
 * small ones, and an odd one for the scalar kernels.
 */
export const FULL_MATMUL: MatmulShape[] = [
  { name: 'smollm2 gate/up', K: 576, out: 1536, parts: 1, rows: [1, 3, 70] },
  { name: 'smollm2 down', K: 1536, out: 576, parts: 1, rows: [1, 3, 70] },
  { name: 'qwen2.5 qkv', K: 896, out: 1152, parts: 1, rows: [1, 4, 64] },
  { name: 'qwen2.5 gate/up', K: 896, out: 4864, parts: 2, rows: [1, 2, 37], formats: BIG },
  { name: 'qwen2.5 down', K: 4864, out: 896, parts: 1, rows: [1, 3, 33], formats: BIG },
  { name: 'smollm2 lm-head rows', K: 576, out: 8192, parts: 2, rows: [1], formats: ['bf16', 'q8', 'q4'] },
  { name: 'odd (scalar kernels)', K: 37, out: 19, parts: 1, rows: [1, 2, 9] },
];

/**
 * The software-adapter rehearsal: a float, a 16-bit and a quantized format, the scalar kernels in f32,
 * and q6k (test/gpu/ checks every format on lavapipe; here the kit itself is rehearsed, within minutes
 * of pipeline compilation).
 */
export const DRY_MATMUL: MatmulShape[] = [
  { name: 'small', K: 64, out: 40, parts: 1, rows: [1, 3, 37], formats: ['f32', 'bf16', 'q4'] },
  { name: 'split weight', K: 256, out: 67, parts: 2, rows: [1, 9], formats: ['q6k'] },
  { name: 'odd (scalar kernels)', K: 37, out: 19, parts: 1, rows: [1, 9], formats: ['f32'] },
];

/** The GEMV splits the rehearsal runs: the software adapter's own and the one GPUs with subgroups pick. */
export const DRY_SPLITS: GemvSplit[] = ['thread', 'subgroup'];

const ATOL = 1e-4;
const RTOL = 1e-3;

/**
 * The runs of a row count: each GEMV split of `vs` for a few rows; for more, the GEMM of the GPU path
 * (tiles) and of the software path (thread blocks), whichever splits `vs` holds.
 */
function runsFor(
  h: KernelHarness,
  vs: Variant[],
  n: number,
): { variant: string; k: KernelContext; split: GemvSplit; selected: boolean }[] {
  if (n <= GEMV_MAX_ROWS) {
    return vs.map((v) => ({
      variant: `gemv ${n === 1 ? 'one row' : 'rows'} ${v.split}`,
      k: v.k,
      split: v.split,
      selected: v.selected,
    }));
  }
  return [false, true].map((software) => ({
    variant: `gemm ${software ? 'thread blocks' : 'tiles'}`,
    k: { ...h.k, software },
    split: gemvSplit(h.k), // unused by the GEMMs
    selected: Boolean(h.k.software) === software,
  }));
}

export async function checkMatmuls(
  h: KernelHarness,
  shapes: MatmulShape[],
  onResult: (r: KernelResult) => void,
  splits?: GemvSplit[],
): Promise<void> {
  const vs = variants(h).filter((v) => !splits || splits.includes(v.split));
  for (const s of shapes) {
    for (const format of s.formats ?? ALL_FORMATS) {
      if (format === 'q6k' && s.K % 256 !== 0) continue; // Q6_K rows are whole 256-value super-blocks
      const w = weightOf(h, s, format);
      for (const n of s.rows) {
        const x = randn(n * s.K, 11 + n); // [n, K]
        const y0 = randn(n * s.out, 14); // [n, out]
        const want = ref.matmul(x, w.exact, s.K, w.bias).map((v, i) => v + y0[i]); // [n, out]
        const atol = ATOL * Math.max(1, Math.sqrt(s.K / 64));
        for (const run of runsFor(h, vs, n)) {
          const t0 = performance.now();
          const y = h.f32(y0);
          h.run(
            matmulOps(run.k, {
              x: h.f32(x),
              w: w.parts,
              bias: w.bias && h.f32(w.bias),
              y,
              K: s.K,
              outStride: s.out,
              rows: h.rows(n),
              label: 'mm',
              accumulate: true,
              split: run.split,
            }),
          );
          const got = await h.read(y, n * s.out);
          const shape = `${s.name}: n=${n} K=${s.K} out=${s.out}${s.parts > 1 ? ` parts=${s.parts}` : ''}`;
          onResult(
            result(
              { kernel: `matmul ${format}`, variant: run.variant, selected: run.selected, shape },
              t0,
              compare(got, want, atol, RTOL),
            ),
          );
        }
      }
    }
  }
}

/** W [out, K] in `format` (GPU parts and the exact values) and, for an unsplit weight, a bias [out]. */
function weightOf(h: KernelHarness, s: MatmulShape, format: WeightFormat) {
  const { parts, exact } = weightParts(h, randn(s.out * s.K, 12, 0.2), s.K, s.parts, format);
  const bias = s.parts === 1 ? randn(s.out, 13) : undefined;
  return { parts, exact, bias };
}
