// What every kernel check shares: the result row, the kernel contexts to run (the adapter's own
// selection and the variants forced on it), the weights in each format, and the comparison.

import type { KernelContext } from '../../../src/ops/context.ts';
import { type GemvSplit, gemvSplit } from '../../../src/ops/matmul.ts';
import type { WeightFormat } from '../../../src/ops/weight-format.ts';
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
