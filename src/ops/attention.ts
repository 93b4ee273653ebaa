import { type ParamField, paramsBuffer } from '../gpu/buffers.ts';
import { makeOp, type Op, type RowCount } from '../gpu/op.ts';
import type { KVDtype } from '../util/kv-dtype.ts';
import { attendKernel } from './attention-kernels.ts';
import type { KernelContext } from './context.ts';
import { kvShader } from './kv-format.ts';

/** The tensors and head shape every attention kernel takes. */
export interface AttentionArgs {
  q: GPUBuffer; // [n, nHeads * headDim]
  kc: GPUBuffer; // [ctx, nKvHeads * headDim] of dtype
  vc: GPUBuffer; // [ctx, nKvHeads * headDim] of dtype
  pos: GPUBuffer; // [n] i32
  out: GPUBuffer; // [n, nHeads * headDim]
  nHeads: number;
  nKvHeads: number;
  headDim: number;
  rows: RowCount;
  label: string;
  /** How kc and vc store their values (default 'f32'; 'f16': packed halves). */
  dtype?: KVDtype;
  /** Score scale (default 1/sqrt(headDim); Gemma: query_pre_attn_scalar^-1/2). */
  scale?: number;
  /** Sliding window: a row at pos attends the last `window` positions <= pos (default 0 = all). */
  window?: number;
  /** Attention logit soft-capping c: score = c·tanh(score / c) (default 0 = none). */
  softcap?: number;
}

/** The params every attention kernel shares after its 4th field: scale, window, softcap (attention_mask.wgsl). */
export function maskParams(a: AttentionArgs): ParamField[] {
  return [{ f: a.scale ?? 1 / Math.sqrt(a.headDim) }, { u: a.window ?? 0 }, { f: a.softcap ?? 0 }];
}

/** out[r, h, :] = softmax_{lo<=p<=pos[r]}(cap(q.K·scale)) V (lo: the window's first position; weights before it 0), grouped-query heads, weights left in `probs` (the deviation probe, and forward steps over many rows; decode uses flashAttentionOps, or threadAttentionOps on a software adapter). Several rows on a software adapter run attend_thread (one thread per head and row). */
export function attentionOp(
  k: KernelContext,
  a: AttentionArgs & {
    probs: GPUBuffer; // [maxRows, nHeads, ctx]
    ctx: number;
  },
): Op {
  const params = paramsBuffer(
    k.device,
    [{ u: a.nHeads }, { u: a.nKvHeads }, { u: a.headDim }, { u: a.ctx }, ...maskParams(a)],
    `${a.label}.params`,
  );
  k.owned.push(params);
  // The kernel for one row and for several (attention-kernels.ts): attend_thread runs one thread per
  // (head, row), the attend workgroups one per (head, row).
  const binds = [params, a.rows.buffer, a.pos, a.q, a.kc, a.vc, a.probs, a.out];
  const op = (rows: number, name: string) => {
    const e = attendKernel(k, rows);
    const kv = kvShader(a.dtype, a.headDim, a.label);
    const pipeline = k.pipelines.get('attention', e.entry, { ...e.consts, ...kv.constants }, kv.includes);
    const grid = (): [number, number?] =>
      e.entry === 'attend_thread' ? [Math.ceil((a.nHeads * a.rows.n) / 64)] : [a.nHeads, a.rows.n];
    return makeOp(k.device, `${a.label}.${name}`, pipeline, binds, grid);
  };
  const opOne = op(1, 'one');
  const opMany = op(2, 'many');
  return { label: a.label, encode: (pass) => (a.rows.n === 1 ? opOne : opMany).encode(pass) };
}
