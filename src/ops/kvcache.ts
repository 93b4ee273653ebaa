import { paramsBuffer } from '../gpu/buffers.ts';
import { makeOp, type Op, type RowCount } from '../gpu/op.ts';
import type { KVDtype } from '../util/kv-dtype.ts';
import { Q8_GROUP } from '../util/kv-q8.ts';
import { ceilDiv, type KernelContext } from './context.ts';
import { checkKVDtypeFits } from './kv-format.ts';

/**
 * kc[pos[r], :] = k[r, :]; vc[pos[r], :] = v[r, :], stored as `dtype` (f16: packed halves, kc/vc
 * [ctx, kvDim/2] u32; q8: groups of 32, kc/vc [ctx, kvDim/32, 9] u32, needs kvDim % 32 == 0).
 */
export function kvScatterOp(
  k: KernelContext,
  a: {
    pos: GPUBuffer; // [n] i32
    k: GPUBuffer; // [n, kvDim]
    v: GPUBuffer; // [n, kvDim]
    kc: GPUBuffer; // [ctx, kvDim] of dtype
    vc: GPUBuffer; // [ctx, kvDim] of dtype
    kvDim: number;
    dtype?: KVDtype; // default 'f32'
    rows: RowCount;
    label: string;
  },
): Op {
  const params = paramsBuffer(k.device, [{ u: a.kvDim }], `${a.label}.params`);
  k.owned.push(params);
  if (a.dtype === 'q8') {
    checkKVDtypeFits('q8', a.kvDim, a.kvDim, a.label);
    const pipeline = k.pipelines.get('kvcache', 'scatter8', { WG: 64 });
    const binds = [params, a.rows.buffer, a.pos, a.k, a.v, null, null, a.kc, a.vc];
    return makeOp(k.device, a.label, pipeline, binds, () => [ceilDiv(a.kvDim / Q8_GROUP, 64), a.rows.n]);
  }
  if (a.dtype === 'f16') {
    const pipeline = k.pipelines.get('kvcache', 'scatter16', { WG: 64 });
    const binds = [params, a.rows.buffer, a.pos, a.k, a.v, null, null, a.kc, a.vc];
    return makeOp(k.device, a.label, pipeline, binds, () => [ceilDiv(a.kvDim / 2, 64), a.rows.n]);
  }
  const pipeline = k.pipelines.get('kvcache', 'scatter', { WG: 64 });
  return makeOp(k.device, a.label, pipeline, [params, a.rows.buffer, a.pos, a.k, a.v, a.kc, a.vc], () => [
    ceilDiv(a.kvDim, 64),
    a.rows.n,
  ]);
}
