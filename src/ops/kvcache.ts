import { paramsBuffer } from '../gpu/buffers.ts';
import { makeOp, type Op, type RowCount } from '../gpu/op.ts';
import { ceilDiv, type KernelContext } from './context.ts';

/** kc[pos[r], :] = k[r, :]; vc[pos[r], :] = v[r, :] */
export function kvScatterOp(
  k: KernelContext,
  a: {
    pos: GPUBuffer; // [n] i32
    k: GPUBuffer; // [n, kvDim]
    v: GPUBuffer; // [n, kvDim]
    kc: GPUBuffer; // [ctx, kvDim]
    vc: GPUBuffer; // [ctx, kvDim]
    kvDim: number;
    rows: RowCount;
    label: string;
  },
): Op {
  const params = paramsBuffer(k.device, [{ u: a.kvDim }], `${a.label}.params`);
  k.owned.push(params);
  const pipeline = k.pipelines.get('kvcache', 'scatter', { WG: 64 });
  return makeOp(k.device, a.label, pipeline, [params, a.rows.buffer, a.pos, a.k, a.v, a.kc, a.vc], () => [
    ceilDiv(a.kvDim, 64),
    a.rows.n,
  ]);
}
