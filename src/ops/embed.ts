import { paramsBuffer } from '../gpu/buffers.ts';
import { makeOp, type Op, type RowCount } from '../gpu/op.ts';
import { ceilDiv, type KernelContext } from './context.ts';
import { isQuantFormat, partsFormat, quantConstants, type WeightPart } from './weight-format.ts';

/**
 * out[r, :] = table[idx[r], :] (· scale) — table may be split in row parts (one op per part), f32 (embed.wgsl)
 * 16-bit packed (embed_packed.wgsl, widened to f32 exactly) or quantized (embed_quant.wgsl, embed_q6k.wgsl).
 */
export function gatherRowsOps(
  k: KernelContext,
  a: {
    idx: GPUBuffer; // [n] u32
    table: WeightPart[]; // parts of [rows, dim]
    out: GPUBuffer; // [n, dim] f32
    dim: number;
    rows: RowCount;
    label: string;
    /** Multiplies every value (default 1; Gemma's embeddings: sqrt(hidden) as f32). */
    scale?: number;
  },
): Op[] {
  const format = partsFormat(a.table, a.label);
  const pipeline =
    format === 'q6k'
      ? k.pipelines.get('embed_q6k', 'gather', { WG: 64 })
      : isQuantFormat(format)
        ? k.pipelines.get('embed_quant', 'gather', { WG: 64, ...quantConstants(format) })
        : format === 'f32'
          ? k.pipelines.get('embed', 'gather', { WG: 64 })
          : k.pipelines.get('embed_packed', 'gather', { WG: 64, BF16: format === 'bf16' ? 1 : 0 });
  return a.table.map((part, i) => {
    const params = paramsBuffer(
      k.device,
      [{ u: a.dim }, { u: part.rowStart }, { u: part.rows }, { f: a.scale ?? 1 }],
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
