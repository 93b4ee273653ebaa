import { paramsBuffer } from '../gpu/buffers.ts';
import { makeOp, type Op, RowCount } from '../gpu/op.ts';
import { type AttentionArgs, maskParams } from './attention.ts';
import { THREAD_MAX_CHUNKS, THREAD_SPAN_PER_CHUNK } from './attention-thread.ts';
import type { KernelContext } from './context.ts';
import { kvShader } from './kv-format.ts';

/**
 * Attended positions per split: spans up to this take one workgroup per (row, head) and no combine
 * pass. Each split walks its positions in chunks of 64 (the workgroup size of attention_flash.wgsl).
 */
export const FLASH_SPAN_PER_SPLIT = 256;
export { FLASH_MAX_ROWS } from './attention-kernels.ts';
/** Splits per (row, head) at most: longer spans loop over several chunks per workgroup. */
export const FLASH_MAX_SPLITS = 16;

/**
 * How many workgroups share one (row, head) of flash attention: ceil(span / FLASH_SPAN_PER_SPLIT)
 * capped at FLASH_MAX_SPLITS, where span is the longest attended length of the step (max position + 1),
 * and how many scores workgroups of the software path (threadAttentionOps) do: ceil(span /
 * THREAD_SPAN_PER_CHUNK) capped at THREAD_MAX_CHUNKS. Set by the host before a step; any values >= 1
 * give the same result, so stale ones are only slower.
 */
export class AttentionSplits {
  readonly count: RowCount;
  readonly chunks: RowCount;
  constructor(device: GPUDevice, label = 'attention.splits') {
    this.count = new RowCount(device, FLASH_MAX_SPLITS, label);
    this.count.set(1);
    this.chunks = new RowCount(device, THREAD_MAX_CHUNKS, `${label}.chunks`);
    this.chunks.set(1);
  }
  /** The uniform buffers, for whoever owns them. */
  get buffers(): GPUBuffer[] {
    return [this.count.buffer, this.chunks.buffer];
  }
  setSpan(span: number): void {
    const s = Math.min(FLASH_MAX_SPLITS, Math.max(1, Math.ceil(span / FLASH_SPAN_PER_SPLIT)));
    if (s !== this.count.n) this.count.set(s);
    const c = Math.min(THREAD_MAX_CHUNKS, Math.max(1, Math.ceil(span / THREAD_SPAN_PER_CHUNK)));
    if (c !== this.chunks.n) this.chunks.set(c);
  }
}

/** Bytes of the partials buffer for `maxRows` rows: [maxRows, nHeads, FLASH_MAX_SPLITS, headDim + 2] f32. */
export function flashPartBytes(maxRows: number, nHeads: number, headDim: number): number {
  return maxRows * nHeads * FLASH_MAX_SPLITS * (headDim + 2) * 4;
}

/**
 * out[r, h, :] = softmax_{p <= pos[r]}(q.K / sqrt(hd)) V with grouped-query heads, as flash decoding:
 * the positions split over `splits` workgroups per (row, head) with an online softmax, then a combine
 * pass (skipped when there is one split). Two ops; the attention weights are not kept (see attentionOp for the probe that keeps them).
 */
export function flashAttentionOps(
  k: KernelContext,
  a: AttentionArgs & {
    part: GPUBuffer; // [maxRows, nHeads, FLASH_MAX_SPLITS, headDim + 2] (see flashPartBytes)
    splits: AttentionSplits;
  },
): Op[] {
  if (a.headDim > 256) throw new RangeError(`${a.label}: headDim ${a.headDim} > 256`);
  const kv = kvShader(a.dtype, a.headDim, a.label);
  const params = paramsBuffer(
    k.device,
    [{ u: a.nHeads }, { u: a.nKvHeads }, { u: a.headDim }, { u: FLASH_MAX_SPLITS }, ...maskParams(a)],
    `${a.label}.params`,
  );
  k.owned.push(params);
  const s = a.splits.count;
  const common = [params, a.rows.buffer, s.buffer];
  const split = makeOp(
    k.device,
    `${a.label}.split`,
    k.pipelines.get('attention_flash', 'split', kv.constants, kv.includes),
    [...common, a.pos, a.q, a.kc, a.vc, a.part, a.out],
    () => [a.nHeads, s.n, a.rows.n],
  );
  const combine = makeOp(
    k.device,
    `${a.label}.combine`,
    k.pipelines.get('attention_flash', 'combine', kv.constants, kv.includes),
    [...common, null, null, null, null, a.part, a.out],
    () => [s.n > 1 ? a.nHeads : 0, a.rows.n], // one split writes out itself
  );
  return [split, combine];
}
