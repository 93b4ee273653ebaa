import { InvalidArgumentError } from '../errors.ts';

export interface SamplingOptions {
  /** 0 = greedy (argmax on the GPU). Default 0. */
  temperature?: number;
  /** Keep only the k most likely tokens (0 = off). */
  topK?: number;
  /** Keep the smallest set of tokens whose probability reaches p (1 = off). */
  topP?: number;
  /** Seed of the sampling PRNG; the same seed gives the same tokens. */
  seed?: number;
}

export function validateSampling(o: SamplingOptions): void {
  const t = o.temperature ?? 0;
  if (!(t >= 0) || !Number.isFinite(t)) throw new InvalidArgumentError(`temperature must be >= 0 (got ${t})`);
  const k = o.topK ?? 0;
  if (!Number.isInteger(k) || k < 0)
    throw new InvalidArgumentError(`topK must be a whole number >= 0 (got ${k})`);
  const p = o.topP ?? 1;
  if (!(p > 0 && p <= 1)) throw new InvalidArgumentError(`topP must be in (0, 1] (got ${p})`);
}

/**
 * Draw one token from logits [V] with temperature, then top-k, then top-p (nucleus) filtering.
 * Runs on the CPU over the logits of one row (greedy decoding never gets here: it uses the GPU argmax).
 */
export function sampleToken(logits: Float32Array, o: SamplingOptions, rand: () => number): number {
  const t = o.temperature ?? 0;
  const V = logits.length;
  let order = Array.from({ length: V }, (_, i) => i);
  order.sort((a, b) => logits[b] - logits[a] || a - b);
  if (t === 0) return order[0];
  const k = o.topK ?? 0;
  if (k > 0 && k < V) order = order.slice(0, k);
  const mx = logits[order[0]];
  const probs = order.map((i) => Math.exp((logits[i] - mx) / t));
  let total = probs.reduce((a, b) => a + b, 0);
  const p = o.topP ?? 1;
  if (p < 1) {
    let acc = 0;
    let keep = 0;
    while (keep < probs.length && acc < p * total) acc += probs[keep++];
    order = order.slice(0, keep);
    probs.length = keep;
    total = acc;
  }
  let u = rand() * total;
  for (let i = 0; i < order.length; i++) {
    u -= probs[i];
    if (u < 0) return order[i];
  }
  return order[order.length - 1];
}
