import { paramsBuffer } from '../gpu/buffers.ts';
import { makeOp, type Op, type RowCount } from '../gpu/op.ts';
import type { WeightPart } from '../llama/weights.ts';
import { ceilDiv, type KernelContext } from './context.ts';

/** Row counts up to this use the GEMV kernels; above it the tiled GEMM. */
export const GEMV_MAX_ROWS = 4;

/**
 * y[r, o] = sum_k x[r, k] * W[o, k] (+ b[o]) for W [outTotal, K] given as row parts.
 * Builds both the GEMV and the GEMM op per part and picks by the row count at encode time.
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
  },
): Op[] {
  const vec4 = a.K % 4 === 0;
  const gemv = vec4
    ? k.pipelines.get('matmul_gemv', 'gemv_vec4')
    : k.pipelines.get('matmul_gemv_scalar', 'gemv_scalar');
  const gemm = k.pipelines.get('matmul_gemm', 'gemm');
  if (a.bias && a.w.length > 1) throw new Error(`${a.label}: a bias on a split weight is not supported`);
  return a.w.map((part, i) => {
    const params = paramsBuffer(
      k.device,
      [{ u: a.K }, { u: part.rows }, { u: a.outStride }, { u: part.rowStart }, { u: a.bias ? 1 : 0 }],
      `${a.label}.params`,
    );
    k.owned.push(params);
    const binds = [params, a.rows.buffer, a.x, part.buffer, a.bias ?? k.dummy, a.y];
    const small = makeOp(k.device, `${a.label}[${i}].gemv`, gemv, binds, () => [
      ceilDiv(part.rows, 8),
      a.rows.n,
    ]);
    const big = makeOp(k.device, `${a.label}[${i}].gemm`, gemm, binds, () => [
      ceilDiv(part.rows, 32),
      ceilDiv(a.rows.n, 32),
    ]);
    return {
      label: `${a.label}[${i}]`,
      encode: (pass) => (a.rows.n <= GEMV_MAX_ROWS ? small : big).encode(pass),
    };
  });
}
