import { type ParamField, paramsBuffer } from '../gpu/buffers.ts';
import { makeOp, type Op, type RowCount } from '../gpu/op.ts';
import type { KVDtype } from '../util/kv-dtype.ts';
import type { KernelContext } from './context.ts';
import { kvIncludes } from './kv-format.ts';

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
  // One row (decode) spreads the positions over more threads.
  const inc = kvIncludes(a.dtype);
  const one = k.pipelines.get('attention', 'attend', { WG: 256 }, inc);
  const many = k.pipelines.get('attention', 'attend', { WG: 64 }, inc);
  const binds = [params, a.rows.buffer, a.pos, a.q, a.kc, a.vc, a.probs, a.out];
  const opOne = makeOp(k.device, `${a.label}.one`, one, binds, () => [a.nHeads, a.rows.n]);
  // Many rows on a software adapter: one thread per (head, row), no barriers (attend_thread).
  const opMany = k.software
    ? makeOp(
        k.device,
        `${a.label}.many`,
        k.pipelines.get('attention', 'attend_thread', {}, inc),
        binds,
        () => [Math.ceil((a.nHeads * a.rows.n) / 64)],
      )
    : makeOp(k.device, `${a.label}.many`, many, binds, () => [a.nHeads, a.rows.n]);
  return { label: a.label, encode: (pass) => (a.rows.n === 1 ? opOne : opMany).encode(pass) };
}
