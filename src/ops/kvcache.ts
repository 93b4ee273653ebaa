import { paramsBuffer } from '../gpu/buffers.ts';
import { makeOp, type Op, type RowCount } from '../gpu/op.ts';
import type { KVDtype } from '../util/kv-dtype.ts';
import { ceilDiv, type KernelContext } from './context.ts';
import { checkKVDtypeFits, kvShader } from './kv-format.ts';

/**
 * kc[pos[r], :] = k[r, :]; vc[pos[r], :] = v[r, :], stored as `dtype` (f16: packed halves, kc/vc
 * [ctx, kvDim/2] u32; q8: groups of G = q8GroupFor(headDim), kc/vc [ctx, kvDim/G, G/4 + 1] u32).
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
    headDim: number; // q8: its group (q8GroupFor) is the kernel's
    dtype?: KVDtype; // default 'f32'
    rows: RowCount;
    label: string;
  },
): Op {
  const params = paramsBuffer(k.device, [{ u: a.kvDim }], `${a.label}.params`);
  k.owned.push(params);
  if (a.dtype === 'q8') {
    checkKVDtypeFits('q8', a.headDim, a.kvDim, a.label);
    const { constants } = kvShader('q8', a.headDim, a.label);
    const pipeline = k.pipelines.get('kvcache', 'scatter8', { WG: 64, ...constants });
    const binds = [params, a.rows.buffer, a.pos, a.k, a.v, null, null, a.kc, a.vc];
    const groups = a.kvDim / constants.Q8_GROUP; // per row
    return makeOp(k.device, a.label, pipeline, binds, () => [ceilDiv(groups, 64), a.rows.n]);
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
