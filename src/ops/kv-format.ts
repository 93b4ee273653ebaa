import type { KVDtype } from '../util/kv-dtype.ts';
import { Q8_GROUP } from '../util/kv-q8.ts';

/** The include swap that makes a cache-reading kernel (#include kv_f32) read a cache of `dtype`. */
export function kvIncludes(dtype: KVDtype = 'f32'): Record<string, string> {
  if (dtype === 'q8') return { kv_f32: 'kv_q8' };
  return dtype === 'f16' ? { kv_f32: 'kv_f16' } : {};
}

/**
 * Throws RangeError unless a cache of `dtype` takes this head shape: f16 kernels write two rotation
 * pairs per word (headDim % 4 == 0); q8 kernels write groups of 32 values of a K/V row (kvDim % 32 == 0).
 */
export function checkKVDtypeFits(dtype: KVDtype, headDim: number, kvDim: number, label: string): void {
  if (dtype === 'f16' && headDim % 4 !== 0) {
    throw new RangeError(`${label}: an ${dtype} KV cache needs headDim % 4 == 0 (got ${headDim})`);
  }
  if (dtype === 'q8' && kvDim % Q8_GROUP !== 0) {
    throw new RangeError(`${label}: a q8 KV cache needs kvDim % ${Q8_GROUP} == 0 (got ${kvDim})`);
  }
}
