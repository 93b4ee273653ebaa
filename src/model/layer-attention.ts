import type { ModelConfig, RopeScaling } from './types.ts';

/**
 * Whether layer `l` attends through the sliding window (ModelConfig.slidingWindow): every layer when
 * the config has a window and no pattern (Mistral), else l % n < n − 1 for pattern n (Gemma 2: even
 * layers; Gemma 3: five of six), as llama.cpp's set_swa_pattern.
 */
export function isSlidingLayer(cfg: ModelConfig, l: number): boolean {
  if (!cfg.slidingWindow) return false;
  const n = cfg.slidingWindowPattern;
  return n === undefined || l % n < n - 1;
}

/** The attention window of layer `l`: positions a row sees (itself included), 0 = all before it. */
export function layerWindow(cfg: ModelConfig, l: number): number {
  return isSlidingLayer(cfg, l) ? (cfg.slidingWindow as number) : 0;
}

/**
 * RoPE of layer `l`: the model's base and scaling, except on Gemma 3's sliding-window layers, which
 * take their own base (ropeLocalTheta) unscaled (llama.cpp: rope_freq_base_train_swa, scale 1).
 */
export function layerRope(cfg: ModelConfig, l: number): { theta: number; scaling?: RopeScaling } {
  if (cfg.ropeLocalTheta !== undefined && isSlidingLayer(cfg, l)) return { theta: cfg.ropeLocalTheta };
  return { theta: cfg.ropeTheta, ...(cfg.ropeScaling ? { scaling: cfg.ropeScaling } : {}) };
}
