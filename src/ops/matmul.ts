// Binds the matmul kernels that src/ops/matmul-kernels.ts picks (the selection table) to a weight's parts.
import { InternalError } from '../errors.ts';
import { paramsBuffer } from '../gpu/buffers.ts';
import { makeOp, type Op, type RowCount } from '../gpu/op.ts';
import { ceilDiv, type KernelContext } from './context.ts';
import {
  GEMV_MAX_ROWS,
  type GemvSplit,
  gemvSplit,
  type KernelEntry,
  matmulKernels,
} from './matmul-kernels.ts';
import { partsFormat, type WeightPart } from './weight-format.ts';

export { GEMV_MAX_ROWS, type GemvSplit, gemvSplit, threadSplitWg } from './matmul-kernels.ts';

/**
 * y[r, o] = sum_k x[r, k] * W[o, k] (+ b[o]) for W [outTotal, K] given as row parts (f32, 16-bit
 * packed or quantized: see WeightFormat). Builds both the GEMV and the GEMM op per part (matmulKernels)
 * and picks by the row count at encode time. Epilogues: `accumulate` adds the result to y (a residual add folded in: y += W x);
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
  if (a.bias && a.w.length > 1)
    throw new InternalError(`internal error: ${a.label}: a bias on a split weight is not supported`);
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
    const op = (e: KernelEntry, name: string) =>
      makeOp(
        k.device,
        `${a.label}[${i}].${name}`,
        k.pipelines.get(e.file, e.entry, e.consts, e.includes),
        binds,
        () => [ceilDiv(part.rows, e.outPerWg), ceilDiv(a.rows.n, e.rowsPerWg)],
      );
    const one = op(kernels.one, 'gemv');
    const few = op(kernels.few, 'gemv_rows');
    const big = op(kernels.gemm, 'gemm');
    return {
      label: `${a.label}[${i}]`,
      encode: (pass) => (a.rows.n <= 1 ? one : a.rows.n <= GEMV_MAX_ROWS ? few : big).encode(pass),
    };
  });
}
