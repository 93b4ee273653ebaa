import { InternalError } from '../errors.ts';
import { paramsBuffer } from '../gpu/buffers.ts';
import { makeOp, type Op, type RowCount } from '../gpu/op.ts';
import type { KVDtype } from '../util/kv-dtype.ts';
import { ceilDiv, type KernelContext } from './context.ts';
import { checkKVDtypeFits, kvShader } from './kv-format.ts';

/**
 * In place: rotate each of nHeads heads of x [n, rowStride] by angle pos[r] (rotate-half; then its
 * first qScale.pairs pairs times qScale.factor), and in the
 * same dispatch each of `second.nHeads` heads of `second.x` [n, second.rowStride] (e.g. the keys).
 * With `cache` (positions >= 0), the rotated keys and the values go to the KV cache at pos[r] instead:
 * RoPE and the cache write in one dispatch; `cache.dtype` 'f16' stores them as packed halves (kc/vc
 * [ctx, rowStride/2] u32), which needs headDim % 4 == 0; 'q8' as groups of G = q8GroupFor(headDim)
 * (kc/vc [ctx, rowStride/G, G/4 + 1] u32, keys quantized after rotation), which needs headDim % 4 == 0
 * and second.rowStride == second.nHeads × headDim.
 */
export function ropeOp(
  k: KernelContext,
  a: {
    x: GPUBuffer;
    pos: GPUBuffer; // [n] i32
    table: GPUBuffer; // [maxPos, headDim/2] vec2
    nHeads: number;
    headDim: number;
    rowStride: number;
    second?: { x: GPUBuffer; nHeads: number; rowStride: number };
    rows: RowCount;
    label: string;
    /** Write the rotated `second` (keys) to kc[pos[r]] instead of in place, and v [n, second.rowStride] to vc[pos[r]]. */
    cache?: { v: GPUBuffer; kc: GPUBuffer; vc: GPUBuffer; dtype?: KVDtype };
    /** Multiplies pairs i < pairs of the rotated x (queries), not `second` (default none). */
    qScale?: { factor: number; pairs: number };
  },
): Op {
  if (a.cache && !a.second)
    throw new InternalError(`internal error: ${a.label}: a cache write needs the keys as 'second'`);
  const params = paramsBuffer(
    k.device,
    [
      { u: a.nHeads },
      { u: a.headDim },
      { u: a.rowStride },
      { u: a.second?.nHeads ?? 0 },
      { u: a.second?.rowStride ?? 0 },
      { f: a.qScale?.factor ?? 1 },
      { u: a.qScale?.pairs ?? 0 },
    ],
    `${a.label}.params`,
  );
  k.owned.push(params);
  const dtype = a.cache?.dtype ?? 'f32';
  const packed = dtype !== 'f32'; // f16 and q8 caches are u32 words (bindings 9, 10)
  if (a.cache && a.second) {
    checkKVDtypeFits(dtype, a.headDim, a.second.rowStride, a.label);
    if (dtype === 'q8' && a.second.rowStride !== a.second.nHeads * a.headDim) {
      throw new RangeError(
        `${a.label}: a q8 cache write needs the key rows unpadded (rowStride = nHeads × headDim)`,
      );
    }
  }
  const entry = a.cache ? { f32: 'rope_kv', f16: 'rope_kv16', q8: 'rope_kv8' }[dtype] : 'rope';
  const { constants } = kvShader(a.cache ? dtype : 'f32', a.headDim, a.label);
  const pipeline = k.pipelines.get('rope', entry, { WG: 64, ...constants });
  const heads = a.nHeads + (a.second?.nHeads ?? 0);
  const binds: (GPUBuffer | null)[] = [params, a.rows.buffer, a.pos, a.table, a.x, a.second?.x ?? k.dummy];
  if (a.cache) binds.push(a.cache.v, ...(packed ? [null, null] : []), a.cache.kc, a.cache.vc);
  return makeOp(k.device, a.label, pipeline, binds, () => [ceilDiv((heads * a.headDim) / 2, 64), a.rows.n]);
}
