/**
 * Which matmul kernel runs, in one place (llm.c dev/cuda style): every variant is a row of a table below
 * with its file, entry point, constants, include swaps and launch shape, and `matmulKernels` picks the
 * rows for a weight format, K, output rows and adapter. matmul.ts binds them and picks by row count at
 * encode time: 1 row → `one`, 2..GEMV_MAX_ROWS → `few`, more → `gemm`.
 *
 * When each is chosen, and where it measured faster (docs/BENCHMARKS.md; `bench/kernels.ts`):
 *
 * GEMV work split (how many threads share one dot product), by adapter:
 *  - `thread` (software adapters): TPO = 1, nothing to reduce, 8..64 threads per workgroup
 *    (threadSplitWg). Fastest on SwiftShader and lavapipe (`bench/kernels.ts --split`, 86148be);
 *    smaller workgroups for small matrices keep both CPU cores busy (k/v: 1 → 6 workgroups).
 *  - `subgroup` (GPUs with subgroups): TPO = min(32, subgroup size), reduced by subgroup shuffles.
 *  - `shared` (other GPUs): TPO = 8, shared memory and one barrier.
 *  On software adapters with subgroups x is read once per subgroup and broadcast (matmul_x_subgroup,
 *  8+ lanes; matmul_x_subgroup4, SwiftShader's 4): lavapipe decode 155.7 → 66.6 ms a step with the
 *  rest of issue 9 (BENCHMARKS "Engine speed").
 *
 * GEMV kernel, by weight format, the first row whose K multiple fits: vector loads need K % 4 (f32),
 * % 8 (16-bit), % 32 (quantized); q6k's super-blocks need K % 256 (checked at load).
 *
 * GEMM kernel: on software adapters the barrier-free 4x4-block kernels (matmul_gemm_thread*), 1.5-3x the
 * tiled ones on SwiftShader and lavapipe (`bench/kernels.ts --rows 128`, 2acf55d); elsewhere the
 * shared-memory tiled kernels (matmul_gemm*, 32x32 tiles).
 *
 * Software-adapter-only kernels live in shaders/software/.
 */
import { InternalError } from '../errors.ts';
import type { KernelContext } from './context.ts';
import { isQuantFormat, quantConstants, type WeightFormat } from './weight-format.ts';

/** Row counts up to this use the GEMV kernels; above it the tiled GEMM. */
export const GEMV_MAX_ROWS = 4;

/** One kernel variant: shaders/<file>.wgsl's `entry` with `consts` and include swaps, and its launch shape. */
export interface KernelEntry {
  file: string;
  entry: string;
  consts: Record<string, number>;
  /** Include slot → drop-in file (PipelineCache include swaps). */
  includes: Record<string, string>;
  /** Workgroups: ceil(outRows / outPerWg) × ceil(rows / rowsPerWg). */
  outPerWg: number;
  rowsPerWg: number;
}

/** The GEMVs' work split: how many threads share one dot product and how they reduce it. */
export type GemvSplit = 'thread' | 'subgroup' | 'shared';

/** The adapter's GEMV split (see the header). */
export function gemvSplit(k: KernelContext): GemvSplit {
  if (k.software) return 'thread';
  return k.subgroupSize ? 'subgroup' : 'shared';
}

/** Workgroups a 'thread'-split GEMV aims for at least: a few per CPU thread of a software adapter. */
const THREAD_SPLIT_MIN_WGS = 6;

/**
 * Threads per workgroup of a 'thread'-split GEMV over `outRows` weight rows: 64, or fewer (a multiple
 * of 8, the SIMD width of lavapipe) so that small matrices still make THREAD_SPLIT_MIN_WGS
 * workgroups. A software adapter runs each workgroup on one CPU thread: 576 rows in 64-thread
 * workgroups of 4 outputs each (3 workgroups) keep one of two cores idle a third of the time; 1536
 * rows (SmolLM2's gate and up) keep 64 threads, where smaller measured no better.
 */
export function threadSplitWg(outRows: number): number {
  const perWg = Math.ceil(outRows / 4 / THREAD_SPLIT_MIN_WGS);
  return Math.min(64, Math.max(8, Math.ceil(perWg / 8) * 8));
}

/** The x include slot's drop-in for the thread GEMVs and GEMMs on an adapter with subgroups. */
function xIncludes(subgroupSize: number | null | undefined): Record<string, string> {
  if (subgroupSize && subgroupSize >= 8) return { matmul_x: 'matmul_x_subgroup' };
  if (subgroupSize === 4) return { matmul_x: 'matmul_x_subgroup4' };
  return {};
}

/** Threads per output (TPO), workgroup size (WG) and include swaps of each GEMV split. */
function splitConstants(
  split: GemvSplit,
  subgroupSize: number | null | undefined,
  outRows: number,
): { TPO: number; WG: number; includes: Record<string, string> } {
  switch (split) {
    case 'thread': {
      const includes = { matmul_gemv_reduce: 'matmul_gemv_reduce_thread', ...xIncludes(subgroupSize) };
      return { TPO: 1, WG: threadSplitWg(outRows), includes };
    }
    case 'shared':
      return { TPO: 8, WG: 256, includes: {} };
    case 'subgroup':
      if (!subgroupSize)
        throw new InternalError('internal error: the subgroup GEMV split needs an adapter with subgroups');
      return {
        TPO: Math.min(32, subgroupSize),
        WG: 256,
        includes: { matmul_gemv_reduce: 'matmul_gemv_reduce_subgroup' },
      };
  }
}

/** Weight formats by kernel family. */
type Family = 'f32' | '16-bit' | 'quant' | 'q6k';
const familyOf = (f: WeightFormat): Family =>
  f === 'q6k' ? 'q6k' : isQuantFormat(f) ? 'quant' : f === 'f32' ? 'f32' : '16-bit';

/** Per-format constants: BF16 = 1 | 0 for 16-bit weights, the format's block constants when quantized. */
function formatConstants(f: WeightFormat): Record<string, number> {
  if (f === 'q6k' || f === 'f32') return {};
  if (isQuantFormat(f)) return quantConstants(f);
  return { BF16: f === 'bf16' ? 1 : 0 };
}

/**
 * GEMV kernels: the first row of a family whose `kMultiple` divides K. `one` / `few`: entry points for
 * one row and for up to GEMV_MAX_ROWS rows; `opt`: outputs per thread of `one` (4: written out without
 * register-indexing loops).
 */
const GEMV: readonly {
  family: Family;
  kMultiple: number;
  file: string;
  one: string;
  few: string;
  opt: number;
}[] = [
  { family: 'f32', kMultiple: 4, file: 'matmul_gemv', one: 'gemv_vec4', few: 'gemv_vec4_rows', opt: 4 },
  { family: 'f32', kMultiple: 1, file: 'matmul_gemv_scalar', one: 'gemv_scalar', few: 'gemv_scalar', opt: 1 },
  {
    family: '16-bit',
    kMultiple: 8,
    file: 'matmul_gemv_packed',
    one: 'gemv_vec8',
    few: 'gemv_vec8_rows',
    opt: 4,
  },
  {
    family: '16-bit',
    kMultiple: 1,
    file: 'matmul_gemv_packed_scalar',
    one: 'gemv_scalar',
    few: 'gemv_scalar',
    opt: 1,
  },
  { family: 'quant', kMultiple: 32, file: 'matmul_gemv_quant', one: 'gemv', few: 'gemv_rows', opt: 4 },
  {
    family: 'quant',
    kMultiple: 1,
    file: 'matmul_gemv_quant_scalar',
    one: 'gemv_scalar',
    few: 'gemv_scalar',
    opt: 1,
  },
  { family: 'q6k', kMultiple: 1, file: 'matmul_gemv_q6k', one: 'gemv', few: 'gemv', opt: 1 },
];

/**
 * GEMM kernels (32x32 outputs × rows per workgroup): the first row of a family whose adapter and
 * `kMultiple` fit. `xSwap`: the thread kernels' 8 threads of one lid.y share rows of x (xIncludes).
 */
const GEMM: readonly {
  family: Family;
  softwareOnly: boolean;
  kMultiple: number;
  file: string;
  entry: string;
  xSwap: boolean;
}[] = [
  {
    family: 'f32',
    softwareOnly: true,
    kMultiple: 4,
    file: 'matmul_gemm_thread',
    entry: 'gemm_vec4',
    xSwap: false,
  },
  { family: 'f32', softwareOnly: false, kMultiple: 1, file: 'matmul_gemm', entry: 'gemm', xSwap: false },
  {
    family: '16-bit',
    softwareOnly: true,
    kMultiple: 8,
    file: 'matmul_gemm_thread_packed',
    entry: 'gemm_vec8',
    xSwap: true,
  },
  {
    family: '16-bit',
    softwareOnly: false,
    kMultiple: 1,
    file: 'matmul_gemm_packed',
    entry: 'gemm',
    xSwap: false,
  },
  {
    family: 'quant',
    softwareOnly: true,
    kMultiple: 32,
    file: 'matmul_gemm_thread_quant',
    entry: 'gemm',
    xSwap: true,
  },
  {
    family: 'quant',
    softwareOnly: false,
    kMultiple: 1,
    file: 'matmul_gemm_quant',
    entry: 'gemm',
    xSwap: false,
  },
  { family: 'q6k', softwareOnly: false, kMultiple: 1, file: 'matmul_gemm_q6k', entry: 'gemm', xSwap: false },
];

/** Workgroup tile of every GEMM: outputs (x) by rows (y). */
const GEMM_TILE = 32;

/**
 * The kernels of one weight part: GEMV for one row and for up to GEMV_MAX_ROWS rows (`split`'s work
 * split; pipelines keyed by every specialisation, e.g. `matmul_gemv_packed:gemv_vec8:BF16=1,OPT=4,ROWS=1,
 * TPO=8` plus the swaps) and the GEMM.
 */
export function matmulKernels(
  k: KernelContext,
  format: WeightFormat,
  K: number,
  split: GemvSplit,
  outRows: number,
): { one: KernelEntry; few: KernelEntry; gemm: KernelEntry } {
  const family = familyOf(format);
  const consts = formatConstants(format);
  const { TPO, WG, includes } = splitConstants(split, k.subgroupSize, outRows);
  const g = GEMV.find((r) => r.family === family && K % r.kMultiple === 0)!;
  const gemv = (entry: string, ROWS: number, OPT: number): KernelEntry => ({
    file: g.file,
    entry,
    consts: { ...consts, ROWS, OPT, TPO, WG },
    includes,
    outPerWg: (WG / TPO) * OPT,
    rowsPerWg: ROWS,
  });
  const m = GEMM.find(
    (r) => r.family === family && (!r.softwareOnly || k.software) && K % r.kMultiple === 0,
  )!;
  return {
    one: gemv(g.one, 1, g.opt),
    few: gemv(g.few, GEMV_MAX_ROWS, 1),
    gemm: {
      file: m.file,
      entry: m.entry,
      consts,
      includes: m.xSwap ? xIncludes(k.subgroupSize) : {},
      outPerWg: GEMM_TILE,
      rowsPerWg: GEMM_TILE,
    },
  };
}
