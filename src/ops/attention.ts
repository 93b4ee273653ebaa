import { paramsBuffer } from '../gpu/buffers.ts';
import { makeOp, type Op, type RowCount } from '../gpu/op.ts';
import type { KVDtype } from '../util/kv-dtype.ts';
import { attendKernel } from './attention-kernels.ts';
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
}

/** out[r, h, :] = softmax_p<=pos[r](q.K/sqrt(hd)) V, grouped-query heads, weights left in `probs` (the deviation probe, and forward steps over many rows; decode uses flashAttentionOps, or threadAttentionOps on a software adapter). Several rows on a software adapter run attend_thread (one thread per head and row). */
export function attentionOp(
  k: KernelContext,
  a: AttentionArgs & {
    probs: GPUBuffer; // [maxRows, nHeads, ctx]
    ctx: number;
  },
): Op {
  const params = paramsBuffer(
    k.device,
    [{ u: a.nHeads }, { u: a.nKvHeads }, { u: a.headDim }, { u: a.ctx }, { f: 1 / Math.sqrt(a.headDim) }],
    `${a.label}.params`,
  );
  k.owned.push(params);
  // The kernel for one row and for several (attention-kernels.ts): attend_thread runs one thread per
  // (head, row), the attend workgroups one per (head, row).
  const binds = [params, a.rows.buffer, a.pos, a.q, a.kc, a.vc, a.probs, a.out];
  const op = (rows: number, name: string) => {
    const e = attendKernel(k, rows);
    const pipeline = k.pipelines.get('attention', e.entry, e.consts, kvIncludes(a.dtype));
    const grid = (): [number, number?] =>
      e.entry === 'attend_thread' ? [Math.ceil((a.nHeads * a.rows.n) / 64)] : [a.nHeads, a.rows.n];
    return makeOp(k.device, `${a.label}.${name}`, pipeline, binds, grid);
  };
  const opOne = op(1, 'one');
  const opMany = op(2, 'many');
  return { label: a.label, encode: (pass) => (a.rows.n === 1 ? opOne : opMany).encode(pass) };
}
