import { paramsBuffer } from '../gpu/buffers.ts';
import { makeOp, type Op, type RowCount } from '../gpu/op.ts';
import type { KernelContext } from './context.ts';

/** out[r, :] = rmsnorm(x[r, :]) * w */
export function rmsnormOp(
  k: KernelContext,
  a: { x: GPUBuffer; w: GPUBuffer; out: GPUBuffer; dim: number; eps: number; rows: RowCount; label: string },
): Op {
  const params = paramsBuffer(k.device, [{ u: a.dim }, { f: a.eps }], `${a.label}.params`);
  k.owned.push(params);
  const pipeline = k.pipelines.get('rmsnorm', 'rmsnorm', { WG: 64 });
  return makeOp(k.device, a.label, pipeline, [params, a.rows.buffer, a.x, a.w, a.out], () => [a.rows.n]);
}
