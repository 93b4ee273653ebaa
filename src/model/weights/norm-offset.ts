import type { HostTensor, ModelConfig } from '../types.ts';

/** Gemma's RMSNorm weight tensors (every one ends in `norm.weight`: layer, q/k and final norms). */
const NORM = /norm\.weight$/;

/**
 * Gemma's RMSNorm multiplies by (1 + w) (computed in f32, as transformers does); the engine keeps
 * every norm as its multiplier, so a Gemma checkpoint's norm weights get 1 added on load, once, as
 * llama.cpp's converter adds it when it writes a GGUF (GGUF files hold 1 + w already and skip this).
 * Other tensors and other architectures come back as they are.
 */
export function withNormOffset(cfg: ModelConfig, t: HostTensor): HostTensor {
  if (!cfg.gemma || !NORM.test(t.name) || t.shape.length !== 1 || !t.data) return t;
  return { name: t.name, shape: t.shape, dtype: t.dtype, data: t.data.map((w) => w + 1) };
}
