import { paramsBuffer } from '../gpu/buffers.ts';
import { makeOp, type Op, type RowCount } from '../gpu/op.ts';
import type { KVDtype } from '../util/kv-dtype.ts';
import { ceilDiv, type KernelContext } from './context.ts';
import { checkKVDtypeFits, kvShader } from './kv-format.ts';

/**
 * kc[dst, :] = rotate(ksrc[src, :], dst - old); vc[dst, :] = vsrc[src, :] for each rowmap entry
 * (src row, dst position, old position, 0) — i32 × 4 per row. Sources and cache are all of `dtype`
 * (f16: packed halves, the rotation computed in f32; needs headDim % 4 == 0. q8: groups of
 * G = q8GroupFor(headDim), keys dequantized, rotated in f32 and re-quantized per group).
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
    dtype?: KVDtype; // of ksrc, vsrc, kc, vc (default 'f32')
  },
): Op {
  const params = paramsBuffer(k.device, [{ u: a.nKvHeads }, { u: a.headDim }], `${a.label}.params`);
  k.owned.push(params);
  const dtype = a.dtype ?? 'f32';
  const kvDim = a.nKvHeads * a.headDim;
  checkKVDtypeFits(dtype, a.headDim, kvDim, a.label);
  const entry = { f32: 'patch_rows', f16: 'patch_rows16', q8: 'patch_rows8' }[dtype];
  const { constants } = kvShader(dtype, a.headDim, a.label);
  const pipeline = k.pipelines.get('kvpatch', entry, { WG: 64, ...constants });
  const kv = [a.ksrc, a.vsrc, a.kc, a.vc];
  const threads = dtype === 'q8' ? kvDim / constants.Q8_GROUP : kvDim / 2; // per row: groups (q8) or rotation pairs
  return makeOp(
    k.device,
    a.label,
    pipeline,
    [params, a.rows.buffer, a.rowmap, a.table, ...(dtype !== 'f32' ? [null, null, null, null, ...kv] : kv)],
    () => [ceilDiv(threads, 64), a.rows.n],
  );
}

/** dev[pos[r]] = |round(v[r, :]) - vc[pos[r], :]|_1, vc a cache layer of `dtype` (v rounded as it stores). */
export function deviationOp(
  k: KernelContext,
  a: {
    pos: GPUBuffer; // [n] i32
    v: GPUBuffer; // [n, kvDim] f32
    vc: GPUBuffer; // [ctx, kvDim] of dtype
    dev: GPUBuffer; // [ctx] f32
    kvDim: number;
    headDim: number; // q8: its group (q8GroupFor) is the cache's
    rows: RowCount;
    label: string;
    dtype?: KVDtype; // of vc (default 'f32')
  },
): Op {
  const params = paramsBuffer(k.device, [{ u: a.kvDim }], `${a.label}.params`);
  k.owned.push(params);
  const kv = kvShader(a.dtype, a.headDim, a.label);
  const pipeline = k.pipelines.get('kvscore', 'deviation', kv.constants, kv.includes);
  const binds = [params, a.rows.buffer, a.pos, a.v, null, a.dev, a.vc];
  return makeOp(k.device, a.label, pipeline, binds, () => [a.rows.n]);
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
