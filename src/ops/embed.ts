import { paramsBuffer } from '../gpu/buffers.ts';
import { makeOp, type Op, type RowCount } from '../gpu/op.ts';
import type { WeightPart } from '../llama/weights.ts';
import { ceilDiv, type KernelContext } from './context.ts';

/** out[r, :] = table[idx[r], :] — table may be split in row parts (one op per part). */
export function gatherRowsOps(
  k: KernelContext,
  a: { idx: GPUBuffer; table: WeightPart[]; out: GPUBuffer; dim: number; rows: RowCount; label: string },
): Op[] {
  const pipeline = k.pipelines.get('embed', 'gather', { WG: 64 });
  return a.table.map((part, i) => {
    const params = paramsBuffer(
      k.device,
      [{ u: a.dim }, { u: part.rowStart }, { u: part.rows }, { u: 0 }],
      `${a.label}.params`,
    );
    k.owned.push(params);
    return makeOp(
      k.device,
      `${a.label}[${i}]`,
      pipeline,
      [params, a.rows.buffer, a.idx, part.buffer, a.out],
      () => [ceilDiv(a.dim, 64), a.rows.n],
    );
  });
}
