import type { Constants } from '../gpu/pipelines.ts';
import type { KVDtype } from '../util/kv-dtype.ts';
import { q8GroupFor } from '../util/kv-q8.ts';

/**
 * How a kernel that reads or writes the KV cache is specialised for a cache of `dtype` with heads of
 * `headDim`: the include swap for the cache-reading kernels (#include kv_f32 → kv_f16 / kv_q8), and,
 * for q8, q8_prelude.wgsl's const Q8_GROUP set to the model's group (q8GroupFor(headDim)).
 */
export interface KVShader {
  includes: Record<string, string>;
  constants: Constants;
}

/** The specialisation of a kernel for a cache of `dtype` with heads of `headDim` (see KVShader). */
export function kvShader(dtype: KVDtype = 'f32', headDim: number, label = 'KV cache'): KVShader {
  if (dtype === 'q8')
    return { includes: { kv_f32: 'kv_q8' }, constants: { Q8_GROUP: q8Group(headDim, label) } };
  return { includes: dtype === 'f16' ? { kv_f32: 'kv_f16' } : {}, constants: {} };
}

/** The q8 group of heads of `headDim` (q8GroupFor); RangeError where none fits a head. */
function q8Group(headDim: number, label: string): number {
  const g = q8GroupFor(headDim);
  if (g === undefined) {
    throw new RangeError(
      `${label}: a q8 KV cache needs headDim % 4 == 0, so a group never spans two heads (got ${headDim})`,
    );
  }
  return g;
}

/**
 * Throws RangeError unless a cache of `dtype` takes this head shape: f16 kernels write two rotation
 * pairs per word (headDim % 4 == 0); q8 kernels write groups of q8GroupFor(headDim) values, which
 * needs headDim % 4 == 0 and kvDim a whole number of heads.
 */
export function checkKVDtypeFits(dtype: KVDtype, headDim: number, kvDim: number, label: string): void {
  if (dtype === 'f16' && headDim % 4 !== 0) {
    throw new RangeError(`${label}: an ${dtype} KV cache needs headDim % 4 == 0 (got ${headDim})`);
  }
  if (dtype === 'q8') {
    const g = q8Group(headDim, label);
    if (kvDim % g !== 0)
      throw new RangeError(`${label}: a q8 KV cache needs kvDim % ${g} == 0 (got ${kvDim})`);
  }
}
