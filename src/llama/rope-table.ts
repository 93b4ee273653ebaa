/**
 * The RoPE cos/sin table of a model (docs/DESIGN.md, The forward pass): the model's inverse frequencies
 * (plain, scaled or partial: src/model/rope-freqs.ts) at every position of the context, which the RoPE
 * kernel (src/ops/rope.ts) and the KV patch's re-rotation read.
 */
import { uploadF32 } from '../gpu/buffers.ts';
import { layerRope } from '../model/layer-attention.ts';
import { ropeInvFreqs } from '../model/rope-freqs.ts';
import type { ModelConfig, RopeScaling } from '../model/types.ts';

/**
 * cos/sin table [maxPos, headDim/2] as interleaved (cos, sin) pairs, computed in float64 from the
 * (possibly scaled or partial, see ropeInvFreqs; longrope picks its factors by maxPos, the context)
 * inverse frequencies: angle = pos · invFreq[i].
 */
export function ropeTable(
  maxPos: number,
  headDim: number,
  theta: number,
  scaling?: RopeScaling,
  rotaryDim?: number,
): Float32Array {
  const half = headDim / 2;
  const inv = ropeInvFreqs(headDim, theta, scaling, { rotaryDim, contextLength: maxPos }); // [half]
  const t = new Float32Array(maxPos * half * 2); // [maxPos, half, 2]
  for (let p = 0; p < maxPos; p++) {
    for (let i = 0; i < half; i++) {
      const angle = p * inv[i];
      t[(p * half + i) * 2] = Math.cos(angle);
      t[(p * half + i) * 2 + 1] = Math.sin(angle);
    }
  }
  return t;
}

export function uploadRopeTable(
  device: GPUDevice,
  maxPos: number,
  headDim: number,
  theta: number,
  scaling?: RopeScaling,
  rotaryDim?: number,
): GPUBuffer {
  return uploadF32(device, ropeTable(maxPos, headDim, theta, scaling, rotaryDim), 'rope.table');
}

/**
 * Each layer's RoPE table (layerRope: Gemma 3's sliding-window layers have their own base, unscaled),
 * one buffer per distinct RoPE, shared by the layers that use it.
 */
export function uploadLayerRopeTables(device: GPUDevice, cfg: ModelConfig, ctx: number): GPUBuffer[] {
  const made = new Map<string, GPUBuffer>();
  return Array.from({ length: cfg.numLayers }, (_, l) => {
    const { theta, scaling } = layerRope(cfg, l);
    const key = JSON.stringify([theta, scaling ?? null]);
    let b = made.get(key);
    if (!b) {
      b = uploadRopeTable(device, ctx, cfg.headDim, theta, scaling, cfg.rotaryDim);
      made.set(key, b);
    }
    return b;
  });
}
