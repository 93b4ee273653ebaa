import { paramsBuffer } from '../gpu/buffers.ts';
import { makeOp, type Op, type RowCount } from '../gpu/op.ts';
import type { PipelineCache } from '../gpu/pipelines.ts';
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

/**
 * The kernels for a weight format and K. f32: matmul_gemv (vec4 loads, K % 4 == 0) or
 * matmul_gemv_scalar, one row per workgroup, and matmul_gemm. f16 / bf16 (two values per u32):
 * matmul_gemv_packed (K % 8 == 0) or matmul_gemv_packed_scalar, specialised by BF16 = 1 | 0 and by
 * ROWS (1 for one row; 4 so that a few rows share each weight load), e.g.
 * `matmul_gemv_packed:gemv_vec8:BF16=1,ROWS=1`, and matmul_gemm_packed. Quantized formats:
 * matmul_gemv_quant (K % 32 == 0, vec4 loads) or matmul_gemv_quant_scalar, and matmul_gemm_quant,
 * specialised by the format (quantConstants) and ROWS. q6k (K % 256 == 0): matmul_gemv_q6k and
 * matmul_gemm_q6k.
 */
function matmulKernels(
  pipelines: PipelineCache,
  format: WeightFormat,
  K: number,
): { one: Gemv; few: Gemv; gemm: GPUComputePipeline } {
  if (format === 'q6k') {
    const gemv = (ROWS: number): Gemv => ({
      pipeline: pipelines.get('matmul_gemv_q6k', 'gemv', { ROWS }),
      outPerWg: 32,
      rowsPerWg: ROWS,
    });
    return { one: gemv(1), few: gemv(GEMV_MAX_ROWS), gemm: pipelines.get('matmul_gemm_q6k', 'gemm') };
  }
  if (isQuantFormat(format)) {
    const q = quantConstants(format);
    const [file, entry] =
      K % 32 === 0 ? ['matmul_gemv_quant', 'gemv'] : ['matmul_gemv_quant_scalar', 'gemv_scalar'];
    const gemv = (ROWS: number): Gemv => ({
      pipeline: pipelines.get(file, entry, { ...q, ROWS }),
      outPerWg: 32,
      rowsPerWg: ROWS,
    });
    return { one: gemv(1), few: gemv(GEMV_MAX_ROWS), gemm: pipelines.get('matmul_gemm_quant', 'gemm', q) };
  }
  if (format === 'f32') {
    const pipeline =
      K % 4 === 0
        ? pipelines.get('matmul_gemv', 'gemv_vec4')
        : pipelines.get('matmul_gemv_scalar', 'gemv_scalar');
    const gemv = { pipeline, outPerWg: 8, rowsPerWg: 1 };
    return { one: gemv, few: gemv, gemm: pipelines.get('matmul_gemm', 'gemm') };
  }
  const BF16 = format === 'bf16' ? 1 : 0;
  const [file, entry] =
    K % 8 === 0 ? ['matmul_gemv_packed', 'gemv_vec8'] : ['matmul_gemv_packed_scalar', 'gemv_scalar'];
  const gemv = (ROWS: number): Gemv => ({
    pipeline: pipelines.get(file, entry, { BF16, ROWS }),
    outPerWg: 32,
    rowsPerWg: ROWS,
  });
  return {
    one: gemv(1),
    few: gemv(GEMV_MAX_ROWS),
    gemm: pipelines.get('matmul_gemm_packed', 'gemm', { BF16 }),
  };
}

/**
 * y[r, o] = sum_k x[r, k] * W[o, k] (+ b[o]) for W [outTotal, K] given as row parts (f32, 16-bit
 * packed or quantized: see WeightFormat). Builds both the GEMV and the GEMM op per part and picks by the row count
 * at encode time. Epilogues: `accumulate` adds the result to y (a residual add folded in: y += W x);
 * `gate` [n, outStride] turns it into SwiGLU: y = silu(gate) * (W x).
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
  },
): Op[] {
  const kernels = matmulKernels(k.pipelines, partsFormat(a.w, a.label), a.K);
  if (a.bias && a.w.length > 1) throw new Error(`${a.label}: a bias on a split weight is not supported`);
  return a.w.map((part, i) => {
    const params = paramsBuffer(
      k.device,
      [
        { u: a.K },
        { u: part.rows },
        { u: a.outStride },
        { u: part.rowStart },
        { u: a.bias ? 1 : 0 },
        { u: a.accumulate ? 1 : 0 },
        { u: a.gate ? 1 : 0 },
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
    const few = kernels.few === kernels.one ? one : gemv(kernels.few, 'gemv_rows');
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
