import { storageBuffer } from '../gpu/buffers.ts';
import type { ModelConfig } from '../model/types.ts';
import { FLASH_MAX_ROWS, flashPartBytes } from '../ops/attention-flash.ts';

/** Activations for up to `maxRows` rows per forward step (and `maxLogitRows` rows of logits). */
export interface Scratch {
  tokens: GPUBuffer; // [maxRows] u32
  pos: GPUBuffer; // [maxRows] i32
  x: GPUBuffer; // [maxRows, D] residual stream
  xn: GPUBuffer; // [maxRows, D] normalised
  q: GPUBuffer; // [maxRows, H*hd]
  k: GPUBuffer; // [maxRows, KV*hd]
  v: GPUBuffer; // [maxRows, KV*hd]
  attn: GPUBuffer; // [maxRows, H*hd]
  probs: GPUBuffer; // [maxRows, H, ctx] attention weights (many-row attention)
  attnPart: GPUBuffer; // [FLASH_MAX_ROWS, H, FLASH_MAX_SPLITS, hd + 2] flash attention partials
  gate: GPUBuffer; // [maxRows, F]
  act: GPUBuffer; // [maxRows, F] silu(gate) * up
  logitIdx: GPUBuffer; // [maxLogitRows] u32 row indices that need logits
  xl: GPUBuffer; // [maxLogitRows, D]
  xln: GPUBuffer; // [maxLogitRows, D]
  logits: GPUBuffer; // [maxLogitRows, V]
  ids: GPUBuffer; // [maxLogitRows] u32 argmax
  all: GPUBuffer[];
}

export function allocScratch(
  device: GPUDevice,
  cfg: ModelConfig,
  a: { maxRows: number; maxLogitRows: number; ctx: number },
): Scratch {
  const all: GPUBuffer[] = [];
  const f32 = (count: number, label: string) => {
    const b = storageBuffer(device, count * 4, label);
    all.push(b);
    return b;
  };
  const { maxRows: n, maxLogitRows: m } = a;
  const D = cfg.hiddenSize;
  const qDim = cfg.numHeads * cfg.headDim;
  const kvDim = cfg.numKvHeads * cfg.headDim;
  const F = cfg.intermediateSize;
  return {
    tokens: f32(n, 'tokens'),
    pos: f32(n, 'pos'),
    x: f32(n * D, 'x'),
    xn: f32(n * D, 'xn'),
    q: f32(n * qDim, 'q'),
    k: f32(n * kvDim, 'k'),
    v: f32(n * kvDim, 'v'),
    attn: f32(n * qDim, 'attn'),
    probs: f32(n * cfg.numHeads * a.ctx, 'probs'),
    attnPart: f32(flashPartBytes(FLASH_MAX_ROWS, cfg.numHeads, cfg.headDim) / 4, 'attnPart'),
    gate: f32(n * F, 'gate'),
    act: f32(n * F, 'act'),
    logitIdx: f32(m, 'logitIdx'),
    xl: f32(m * D, 'xl'),
    xln: f32(m * D, 'xln'),
    logits: f32(m * cfg.vocabSize, 'logits'),
    ids: f32(m, 'ids'),
    all,
  };
}
