import { paramsBuffer } from '../gpu/buffers.ts';
import { makeOp, type Op, type RowCount } from '../gpu/op.ts';
import { ceilDiv, type KernelContext } from './context.ts';
import {
  isQuantFormat,
  partsFormat,
  quantConstants,
  type WeightFormat,
  type WeightPart,
} from './weight-format.ts';

/** Row counts up to this use the GEMV kernels; above it the tiled GEMM. */
export const GEMV_MAX_ROWS = 4;

/** A GEMV pipeline and its launch shape: outputs per workgroup (grid x) and rows per workgroup (grid y). */
interface Gemv {
  pipeline: GPUComputePipeline;
  outPerWg: number;
  rowsPerWg: number;
}

/** The GEMVs' work split: how many threads share one dot product and how they reduce it. */
export type GemvSplit = 'thread' | 'subgroup' | 'shared';

/**
 * The GEMV work split for an adapter: 'thread' (TPO = 1, up to 64 threads per workgroup
 * (threadSplitWg), nothing to reduce) on software adapters, where it measured fastest on both SwiftShader and lavapipe
 * (bench/kernels.ts --split); 'subgroup' (TPO = min(32, subgroup size), reduced by subgroup
 * shuffles) on GPUs with subgroups; else 'shared' (TPO = 8, shared memory and one barrier).
 */
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

/**
 * How the 'thread'-split GEMVs and the thread GEMMs (16-bit and quantized) read x, which all threads
 * of a subgroup share: once per subgroup through subgroupBroadcast where the adapter has subgroups of
 * 4 (matmul_x_subgroup4) or 8+ lanes (matmul_x_subgroup), else every thread itself (matmul_x).
 */
function xIncludes(subgroupSize: number | null | undefined): Record<string, string> {
  if (subgroupSize && subgroupSize >= 8) return { matmul_x: 'matmul_x_subgroup' };
  if (subgroupSize === 4) return { matmul_x: 'matmul_x_subgroup4' };
  return {};
}

function splitConstants(
  split: GemvSplit,
  subgroupSize: number | null | undefined,
  outRows: number,
): { TPO: number; WG: number; includes: Record<string, string> } {
  if (split === 'thread') {
    const includes = { matmul_gemv_reduce: 'matmul_gemv_reduce_thread', ...xIncludes(subgroupSize) };
    return { TPO: 1, WG: threadSplitWg(outRows), includes };
  }
  if (split === 'shared') return { TPO: 8, WG: 256, includes: {} };
  if (!subgroupSize) throw new Error('the subgroup GEMV split needs an adapter with subgroups');
  return {
    TPO: Math.min(32, subgroupSize),
    WG: 256,
    includes: { matmul_gemv_reduce: 'matmul_gemv_reduce_subgroup' },
  };
}

/** A GEMV kernel: file, entry point for one row and for GEMV_MAX_ROWS rows, and its constants. */
interface GemvKernel {
  file: string;
  one: string;
  few: string;
  /** The entry points take OPT = 4 outputs per thread for one row (else OPT = 1). */
  multi: boolean;
  consts: Record<string, number>;
}

/**
 * The GEMV kernel for a weight format and K: f32 matmul_gemv (vec4 loads, K % 4 == 0) or
 * matmul_gemv_scalar; f16 / bf16 (two values per u32) matmul_gemv_packed (K % 8 == 0) or
 * matmul_gemv_packed_scalar, specialised by BF16 = 1 | 0; quantized formats matmul_gemv_quant
 * (K % 32 == 0, vec4 loads) or matmul_gemv_quant_scalar, specialised by the format (quantConstants);
 * q6k (K % 256 == 0) matmul_gemv_q6k.
 */
function gemvKernel(format: WeightFormat, K: number): GemvKernel {
  const same = (file: string, entry: string, consts: Record<string, number>) => ({
    file,
    one: entry,
    few: entry,
    multi: false,
    consts,
  });
  if (format === 'q6k') return same('matmul_gemv_q6k', 'gemv', {});
  if (isQuantFormat(format)) {
    const q = quantConstants(format);
    return K % 32 === 0
      ? { file: 'matmul_gemv_quant', one: 'gemv', few: 'gemv_rows', multi: true, consts: q }
      : same('matmul_gemv_quant_scalar', 'gemv_scalar', q);
  }
  if (format === 'f32') {
    return K % 4 === 0
      ? { file: 'matmul_gemv', one: 'gemv_vec4', few: 'gemv_vec4_rows', multi: true, consts: {} }
      : same('matmul_gemv_scalar', 'gemv_scalar', {});
  }
  const BF16 = format === 'bf16' ? 1 : 0;
  return K % 8 === 0
    ? { file: 'matmul_gemv_packed', one: 'gemv_vec8', few: 'gemv_vec8_rows', multi: true, consts: { BF16 } }
    : same('matmul_gemv_packed_scalar', 'gemv_scalar', { BF16 });
}

/**
 * The GEMM kernel for a weight format and K: on software adapters the barrier-free block kernels
 * matmul_gemm_thread (f32, K % 4 == 0), matmul_gemm_thread_packed (16-bit, K % 8 == 0) and
 * matmul_gemm_thread_quant (quantized, K % 32 == 0), which measured 1.5-3x the tiled ones on
 * SwiftShader and lavapipe (bench/kernels.ts --rows 128); else
 * the shared-memory tiled matmul_gemm, matmul_gemm_packed, matmul_gemm_quant, matmul_gemm_q6k.
 */
function gemmKernel(k: KernelContext, format: WeightFormat, K: number): GPUComputePipeline {
  if (format === 'q6k') return k.pipelines.get('matmul_gemm_q6k', 'gemm');
  // The thread GEMMs' 8 threads of one lid.y share rows of x.
  const includes = xIncludes(k.subgroupSize);
  if (isQuantFormat(format)) {
    if (k.software && K % 32 === 0)
      return k.pipelines.get('matmul_gemm_thread_quant', 'gemm', quantConstants(format), includes);
    return k.pipelines.get('matmul_gemm_quant', 'gemm', quantConstants(format));
  }
  if (format === 'f32') {
    if (k.software && K % 4 === 0) return k.pipelines.get('matmul_gemm_thread', 'gemm_vec4');
    return k.pipelines.get('matmul_gemm', 'gemm');
  }
  const BF16 = format === 'bf16' ? 1 : 0;
  if (k.software && K % 8 === 0)
    return k.pipelines.get('matmul_gemm_thread_packed', 'gemm_vec8', { BF16 }, includes);
  return k.pipelines.get('matmul_gemm_packed', 'gemm', { BF16 });
}

/**
 * The GEMV pipelines for one row and for up to GEMV_MAX_ROWS rows (matmul_gemv_prelude's work
 * split, keyed by every specialisation, e.g. `matmul_gemv_packed:gemv_vec8:BF16=1,OPT=4,ROWS=1,TPO=8`
 * plus the reduction swap) and the GEMM pipeline.
 */
function matmulKernels(
  k: KernelContext,
  format: WeightFormat,
  K: number,
  split: GemvSplit,
  outRows: number,
): { one: Gemv; few: Gemv; gemm: GPUComputePipeline } {
  const { TPO, WG, includes } = splitConstants(split, k.subgroupSize, outRows);
  const g = gemvKernel(format, K);
  const gemv = (entry: string, ROWS: number, OPT: number): Gemv => ({
    pipeline: k.pipelines.get(g.file, entry, { ...g.consts, ROWS, OPT, TPO, WG }, includes),
    outPerWg: (WG / TPO) * OPT,
    rowsPerWg: ROWS,
  });
  return {
    one: gemv(g.one, 1, g.multi ? 4 : 1),
    few: gemv(g.few, GEMV_MAX_ROWS, 1),
    gemm: gemmKernel(k, format, K),
  };
}

/**
 * y[r, o] = sum_k x[r, k] * W[o, k] (+ b[o]) for W [outTotal, K] given as row parts (f32, 16-bit
 * packed or quantized: see WeightFormat). Builds both the GEMV and the GEMM op per part and picks by the row count
 * at encode time. Epilogues: `accumulate` adds the result to y (a residual add folded in: y += W x);
 * `gate` [n, outStride] turns it into SwiGLU: y = silu(gate) * (W x), or with `gateAct` 'gelu_tanh'
 * GeGLU: y = gelu_tanh(gate) * (W x); `softcap` c > 0 caps the result: y = c·tanh(y / c).
 */
export function matmulOps(
  k: KernelContext,
  a: {
    x: GPUBuffer; // [n, K]
    w: WeightPart[]; // parts of W [outTotal, K]
    bias?: GPUBuffer; // [outTotal]
    y: GPUBuffer; // [n, outStride]
    K: number;
    outStride: number;
    rows: RowCount;
    label: string;
    accumulate?: boolean;
    gate?: GPUBuffer; // [n, outStride]
    /** The gate's activation (default 'silu'). */
    gateAct?: 'silu' | 'gelu_tanh';
    softcap?: number;
    /** The GEMV work split (default: gemvSplit(k), the adapter's). */
    split?: GemvSplit;
  },
): Op[] {
  const format = partsFormat(a.w, a.label);
  if (a.bias && a.w.length > 1) throw new Error(`${a.label}: a bias on a split weight is not supported`);
  return a.w.map((part, i) => {
    const kernels = matmulKernels(k, format, a.K, a.split ?? gemvSplit(k), part.rows);
    const params = paramsBuffer(
      k.device,
      [
        { u: a.K },
        { u: part.rows },
        { u: a.outStride },
        { u: part.rowStart },
        { u: a.bias ? 1 : 0 },
        { u: a.accumulate ? 1 : 0 },
        { u: a.gate ? (a.gateAct === 'gelu_tanh' ? 2 : 1) : 0 },
        { f: a.softcap ?? 0 },
      ],
      `${a.label}.params`,
    );
    k.owned.push(params);
    const binds = [params, a.rows.buffer, a.x, part.buffer, a.bias ?? k.dummy, a.y, a.gate ?? k.dummy];
    const gemv = (g: Gemv, name: string) =>
      makeOp(k.device, `${a.label}[${i}].${name}`, g.pipeline, binds, () => [
        ceilDiv(part.rows, g.outPerWg),
        ceilDiv(a.rows.n, g.rowsPerWg),
      ]);
    const one = gemv(kernels.one, 'gemv');
    const few = gemv(kernels.few, 'gemv_rows');
    const big = makeOp(k.device, `${a.label}[${i}].gemm`, kernels.gemm, binds, () => [
      ceilDiv(part.rows, 32),
      ceilDiv(a.rows.n, 32),
    ]);
    return {
      label: `${a.label}[${i}]`,
      encode: (pass) => (a.rows.n <= 1 ? one : a.rows.n <= GEMV_MAX_ROWS ? few : big).encode(pass),
    };
  });
}
