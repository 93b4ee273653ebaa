import { storageBuffer } from '../gpu/buffers.ts';
import { type KVDtype, kvBytes } from '../util/kv-dtype.ts';
import { q8GroupFor } from '../util/kv-q8.ts';

/**
 * Per-layer K and V on the GPU, one row per position, stored as `dtype` (f16: halves packed two per
 * u32 word; q8: per group of G = q8GroupFor(headDim) values G / 4 words of int8 codes and an f32
 * scale). Keys are stored RoPE-rotated at their position.
 */
export class LiveCache {
  readonly k: GPUBuffer[]; // L × [ctx, kvDim] of dtype
  readonly v: GPUBuffer[]; // L × [ctx, kvDim] of dtype
  /** The model's q8 group (q8GroupFor(headDim)): what a q8 cache's rows are grouped by; 0 where none fits. */
  readonly group: number;
  constructor(
    device: GPUDevice,
    readonly numLayers: number,
    readonly ctx: number,
    readonly kvDim: number,
    headDim: number,
    readonly dtype: KVDtype = 'f32',
  ) {
    this.group = q8GroupFor(headDim) ?? 0;
    // a whole number of 16-byte words: the attention kernels bind the cache as an array of 4-value
    // words (kv_access.wgsl), and read its last elements through the last word
    const bytes = Math.ceil((ctx * this.rowBytes) / 16) * 16;
    this.k = Array.from({ length: numLayers }, (_, l) => storageBuffer(device, bytes, `kcache.${l}`));
    this.v = Array.from({ length: numLayers }, (_, l) => storageBuffer(device, bytes, `vcache.${l}`));
  }
  /** Bytes of one position's K (or V) row of one layer. */
  get rowBytes(): number {
    return kvBytes(this.dtype, this.kvDim, this.group);
  }
  get bytes(): number {
    return 2 * this.numLayers * this.ctx * this.rowBytes;
  }
  destroy(): void {
    for (const b of [...this.k, ...this.v]) b.destroy();
  }
}
