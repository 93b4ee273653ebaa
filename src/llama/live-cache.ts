import { storageBuffer } from '../gpu/buffers.ts';
import { type KVDtype, kvBytes } from '../util/kv-dtype.ts';

/**
 * Per-layer K and V on the GPU, one row per position, stored as `dtype` (f16: halves packed two per
 * u32 word; q8: per 32 values 8 words of int8 codes and an f32 scale). Keys are stored RoPE-rotated
 * at their position.
 */
export class LiveCache {
  readonly k: GPUBuffer[]; // L × [ctx, kvDim] of dtype
  readonly v: GPUBuffer[]; // L × [ctx, kvDim] of dtype
  constructor(
    device: GPUDevice,
    readonly numLayers: number,
    readonly ctx: number,
    readonly kvDim: number,
    readonly dtype: KVDtype = 'f32',
  ) {
    const bytes = ctx * this.rowBytes;
    this.k = Array.from({ length: numLayers }, (_, l) => storageBuffer(device, bytes, `kcache.${l}`));
    this.v = Array.from({ length: numLayers }, (_, l) => storageBuffer(device, bytes, `vcache.${l}`));
  }
  /** Bytes of one position's K (or V) row of one layer. */
  get rowBytes(): number {
    return kvBytes(this.dtype, this.kvDim);
  }
  get bytes(): number {
    return 2 * this.numLayers * this.ctx * this.rowBytes;
  }
  destroy(): void {
    for (const b of [...this.k, ...this.v]) b.destroy();
  }
}
