import { paramsBuffer } from '../gpu/buffers.ts';
import { makeOp, type Op, type RowCount } from '../gpu/op.ts';
import type { KernelContext } from './context.ts';

/** out[r] = argmax logits[r, :] (u32), lowest index on ties. */
export function argmaxOp(
  k: KernelContext,
  a: { logits: GPUBuffer; out: GPUBuffer; vocab: number; rows: RowCount; label: string },
): Op {
  const params = paramsBuffer(k.device, [{ u: a.vocab }], `${a.label}.params`);
  k.owned.push(params);
  const pipeline = k.pipelines.get('argmax', 'argmax');
  return makeOp(k.device, a.label, pipeline, [params, a.rows.buffer, a.logits, a.out], () => [a.rows.n]);
}
