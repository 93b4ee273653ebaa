import { paramsBuffer } from '../gpu/buffers.ts';
import { makeOp, type Op, type RowCount } from '../gpu/op.ts';
import { ceilDiv, type KernelContext } from './context.ts';

/**
 * kc[dst, :] = rotate(ksrc[src, :], dst - old); vc[dst, :] = vsrc[src, :] for each rowmap entry
 * (src row, dst position, old position, 0) — i32 × 4 per row.
 */
export function kvPatchOp(
  k: KernelContext,
  a: {
    rowmap: GPUBuffer; // [n, 4] i32
    table: GPUBuffer; // rope cos/sin [maxPos, headDim/2]
    ksrc: GPUBuffer; // [T, kvDim]
    vsrc: GPUBuffer; // [T, kvDim]
    kc: GPUBuffer; // [ctx, kvDim]
    vc: GPUBuffer; // [ctx, kvDim]
    nKvHeads: number;
    headDim: number;
    rows: RowCount;
    label: string;
  },
): Op {
  const params = paramsBuffer(k.device, [{ u: a.nKvHeads }, { u: a.headDim }], `${a.label}.params`);
  k.owned.push(params);
  const pipeline = k.pipelines.get('kvpatch', 'patch_rows', { WG: 64 });
  return makeOp(
    k.device,
    a.label,
    pipeline,
    [params, a.rows.buffer, a.rowmap, a.table, a.ksrc, a.vsrc, a.kc, a.vc],
    () => [ceilDiv((a.nKvHeads * a.headDim) / 2, 64), a.rows.n],
  );
}

/** dev[pos[r]] = |v[r, :] - vc[pos[r], :]|_1 */
export function deviationOp(
  k: KernelContext,
  a: {
    pos: GPUBuffer;
    v: GPUBuffer;
    vc: GPUBuffer;
    dev: GPUBuffer;
    kvDim: number;
    rows: RowCount;
    label: string;
  },
): Op {
  const params = paramsBuffer(k.device, [{ u: a.kvDim }], `${a.label}.params`);
  k.owned.push(params);
  const pipeline = k.pipelines.get('kvscore', 'deviation');
  return makeOp(k.device, a.label, pipeline, [params, a.rows.buffer, a.pos, a.v, a.vc, a.dev], () => [
    a.rows.n,
  ]);
}

/** score[j] = mean_h probs[h, j] * dev[j] for j < count.n */
export function scoreOp(
  k: KernelContext,
  a: {
    probs: GPUBuffer;
    dev: GPUBuffer;
    score: GPUBuffer;
    nHeads: number;
    ctx: number;
    len: RowCount;
    label: string;
  },
): Op {
  const params = paramsBuffer(k.device, [{ u: 0 }, { u: a.nHeads }, { u: a.ctx }], `${a.label}.params`);
  k.owned.push(params);
  const pipeline = k.pipelines.get('kvscore', 'score');
  return makeOp(k.device, a.label, pipeline, [params, a.len.buffer, null, a.probs, a.dev, a.score], () => [
    ceilDiv(a.len.n, 64),
  ]);
}
