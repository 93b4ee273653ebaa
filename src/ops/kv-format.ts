import type { KVDtype } from '../util/kv-dtype.ts';

/** The include swap that makes a cache-reading kernel (#include kv_f32) read a cache of `dtype`. */
export function kvIncludes(dtype: KVDtype = 'f32'): Record<string, string> {
  return dtype === 'f16' ? { kv_f32: 'kv_f16' } : {};
}

/** Whether a cache of `dtype` takes this head shape: f16 kernels write two rotation pairs per word (headDim % 4 == 0). */
export function kvDtypeFits(dtype: KVDtype, headDim: number): boolean {
  return dtype === 'f32' || headDim % 4 === 0;
}

/** Throws RangeError unless kvDtypeFits. */
export function checkKVDtypeFits(dtype: KVDtype, headDim: number, label: string): void {
  if (!kvDtypeFits(dtype, headDim)) {
    throw new RangeError(`${label}: an ${dtype} KV cache needs headDim % 4 == 0 (got ${headDim})`);
  }
}
