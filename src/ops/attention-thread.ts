import { paramsBuffer } from '../gpu/buffers.ts';
import { makeOp, type Op, type RowCount } from '../gpu/op.ts';
import { type AttentionArgs, maskParams } from './attention.ts';
import { THREAD_MAX_GROUP, threadAttentionFits } from './attention-kernels.ts';
import type { KernelContext } from './context.ts';
import { kvShader } from './kv-format.ts';

/** Attended positions per workgroup of the scores pass (attention_thread.wgsl: 16 threads x 4 positions). */
export const THREAD_SPAN_PER_CHUNK = 64;
/** Scores workgroups per (row, KV head) at most: longer spans loop (any count >= 1 gives the same result). */
export const THREAD_MAX_CHUNKS = 1024;

/**
 * out[r, h, :] = softmax_{p <= pos[r]}(q.K / sqrt(hd)) V with grouped-query heads, for a few rows on a
 * software adapter (attention_thread.wgsl): a scores pass, one thread per (row, KV head, 4 positions)
 * for the heads of that KV head, then an output pass, one thread per (row, head, 4 dims) with an
 * online softmax. No shared memory and no barrier. The scores pass covers `splits.chunks` x 64
 * positions per step (AttentionSplits.chunks) and loops past them. Needs threadAttentionFits.
 */
export function threadAttentionOps(
  k: KernelContext,
  a: AttentionArgs & {
    scores: GPUBuffer; // [rows.max, nHeads, ctx] (the scratch's probs)
    ctx: number;
    chunks: RowCount; // ceil(span / THREAD_SPAN_PER_CHUNK), any value >= 1 (AttentionSplits.chunks)
  },
): Op[] {
  if (!threadAttentionFits(a)) {
    throw new RangeError(
      `${a.label}: thread attention needs headDim % 4 == 0 and nHeads / nKvHeads <= ${THREAD_MAX_GROUP} (got ${a.headDim}, ${a.nHeads} / ${a.nKvHeads})`,
    );
  }
  const G = a.nHeads / a.nKvHeads;
  const kv = kvShader(a.dtype, a.headDim, a.label);
  const params = paramsBuffer(
    k.device,
    [{ u: a.nHeads }, { u: a.nKvHeads }, { u: a.headDim }, { u: a.ctx }, ...maskParams(a)],
    `${a.label}.params`,
  );
  k.owned.push(params);
  const c = a.chunks;
  const binds = [params, a.rows.buffer, c.buffer, a.pos, a.q, a.kc, a.vc, a.scores, a.out];
  const scores = makeOp(
    k.device,
    `${a.label}.scores`,
    k.pipelines.get('attention_thread', 'scores_pass', { G, ...kv.constants }, kv.includes),
    binds.map((b, i) => (i === 6 || i === 8 ? null : b)),
    () => [c.n, a.nKvHeads, a.rows.n],
  );
  const output = makeOp(
    k.device,
    `${a.label}.output`,
    k.pipelines.get('attention_thread', 'output_pass', { G, ...kv.constants }, kv.includes),
    binds.map((b, i) => (i === 2 || i === 4 || i === 5 ? null : b)),
    () => [Math.ceil(a.headDim / 4 / 8), a.nHeads, a.rows.n], // 8 threads of 4 dims per workgroup
  );
  return [scores, output];
}

export { THREAD_MAX_GROUP, threadAttentionFits } from './attention-kernels.ts';
