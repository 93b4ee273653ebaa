import { paramsBuffer } from '../gpu/buffers.ts';
import { makeOp, type Op, type RowCount } from '../gpu/op.ts';
import type { KernelContext } from './context.ts';

/** out[r, :] = rmsnorm(x[r, :]) * w, or with `accumulate` out[r, :] += rmsnorm(x[r, :]) * w (x and out distinct) */
export function rmsnormOp(
  k: KernelContext,
  a: {
    x: GPUBuffer; // [n, dim]
    w: GPUBuffer; // [dim]
    out: GPUBuffer; // [n, dim]
    dim: number;
    eps: number;
    rows: RowCount;
    label: string;
    accumulate?: boolean;
  },
): Op {
  const params = paramsBuffer(
    k.device,
    [{ u: a.dim }, { f: a.eps }, { u: a.accumulate ? 1 : 0 }],
    `${a.label}.params`,
  );
  k.owned.push(params);
  const pipeline = k.pipelines.get('rmsnorm', 'rmsnorm', { WG: 64 });
  return makeOp(k.device, a.label, pipeline, [params, a.rows.buffer, a.x, a.w, a.out], () => [a.rows.n]);
}

/**
 * In place, per head (Qwen3's q_norm / k_norm): each of nHeads heads of x [n, rowStride] becomes
 * rmsnorm(head) * wx [headDim], and each of second.nHeads heads of second.x [n, second.rowStride]
 * rmsnorm(head) * second.w, in one dispatch of one workgroup per (head, row).
 */
export function rmsnormHeadsOp(
  k: KernelContext,
  a: {
    x: GPUBuffer;
    w: GPUBuffer; // [headDim]
    nHeads: number;
    rowStride: number;
    second: { x: GPUBuffer; w: GPUBuffer; nHeads: number; rowStride: number };
    headDim: number;
    eps: number;
    rows: RowCount;
    label: string;
  },
): Op {
  const params = paramsBuffer(
    k.device,
    [
      { u: a.nHeads },
      { u: a.headDim },
      { u: a.rowStride },
      { u: a.second.nHeads },
      { u: a.second.rowStride },
      { f: a.eps },
    ],
    `${a.label}.params`,
  );
  k.owned.push(params);
  const pipeline = k.pipelines.get('rmsnorm_heads', 'rmsnorm_heads', { WG: 64 });
  const binds = [params, a.rows.buffer, a.x, a.w, a.second.x, a.second.w];
  return makeOp(k.device, a.label, pipeline, binds, () => [a.nHeads + a.second.nHeads, a.rows.n]);
}
