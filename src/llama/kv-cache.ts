import { storageBuffer } from '../gpu/buffers.ts';

/** Per-layer K and V on the GPU, one row per position. Keys are stored RoPE-rotated at their position. */
export class KVCache {
  readonly k: GPUBuffer[]; // L × [ctx, kvDim]
  readonly v: GPUBuffer[]; // L × [ctx, kvDim]
  constructor(
    device: GPUDevice,
    readonly numLayers: number,
    readonly ctx: number,
    readonly kvDim: number,
  ) {
    const bytes = ctx * kvDim * 4;
    this.k = Array.from({ length: numLayers }, (_, l) => storageBuffer(device, bytes, `kcache.${l}`));
    this.v = Array.from({ length: numLayers }, (_, l) => storageBuffer(device, bytes, `vcache.${l}`));
  }
  get bytes(): number {
    return 2 * this.numLayers * this.ctx * this.kvDim * 4;
  }
  destroy(): void {
    for (const b of [...this.k, ...this.v]) b.destroy();
  }
}
