import type { RopeScaling } from './types.ts';

/**
 * RoPE's inverse frequencies [headDim/2] in float64: theta^(-2i/rotaryDim) for i < rotaryDim/2 and 0
 * past them (partial rotary: those pairs do not turn; see partialRotaryRows for the pairing), scaled
 * as `scaling` says. `llama3` follows transformers' `_compute_llama3_parameters` (the same values as
 * llama.cpp's `rope_freqs` divisors, which its converter derives from the same formula); `divisors`
 * and `longrope` divide each frequency by its own factor as llama.cpp's ggml_rope_ext does with
 * `freq_factors` (longrope: the long factors when `contextLength` exceeds the original context).
 */
export function ropeInvFreqs(
  headDim: number,
  theta: number,
  scaling?: RopeScaling,
  opts: { rotaryDim?: number; contextLength?: number } = {},
): Float64Array {
  const rot = opts.rotaryDim ?? headDim;
  const inv = new Float64Array(headDim / 2); // [headDim/2]
  for (let i = 0; i < rot / 2; i++) inv[i] = theta ** (-(2 * i) / rot);
  if (!scaling) return inv;
  if (scaling.type === 'longrope') {
    const factors = longropeIsLong(scaling, opts.contextLength) ? scaling.longFactor : scaling.shortFactor;
    if (factors.length !== rot / 2) {
      throw new RangeError(`longrope: ${factors.length} factors for ${rot / 2} frequencies`);
    }
    return inv.map((f, i) => (i < rot / 2 ? f / factors[i] : 0));
  }
  if (rot !== headDim) {
    throw new RangeError(`rope scaling '${scaling.type}' with partial rotary is not supported`);
  }
  const half = headDim / 2;
  if (scaling.type === 'linear') return inv.map((f) => f / scaling.factor);
  if (scaling.type === 'divisors') {
    if (scaling.divisors.length !== half) {
      throw new RangeError(`rope divisors: ${scaling.divisors.length} values for ${half} frequencies`);
    }
    return inv.map((f, i) => f / scaling.divisors[i]);
  }
  const { factor, lowFreqFactor: lo, highFreqFactor: hi, originalMaxPositions: old } = scaling;
  const lowWavelen = old / lo; // longer wavelengths: divided by factor
  const highWavelen = old / hi; // shorter wavelengths: kept
  return inv.map((f) => {
    const wavelen = (2 * Math.PI) / f;
    if (wavelen < highWavelen) return f;
    if (wavelen > lowWavelen) return f / factor;
    const smooth = (old / wavelen - lo) / (hi - lo);
    return (1 - smooth) * (f / factor) + smooth * f;
  });
}

/**
 * Whether a runner of `contextLength` positions rotates with longrope's long factors (past the original
 * context, as transformers and llama.cpp choose) rather than its short ones; false for other scalings.
 */
export function longropeIsLong(scaling: RopeScaling | undefined, contextLength = 0): boolean {
  return scaling?.type === 'longrope' && contextLength > scaling.originalMaxPositions;
}

/** The factor queries and keys are scaled by after RoPE (longrope's attention factor; else 1). */
export function ropeAttentionFactor(scaling?: RopeScaling): number {
  return scaling?.type === 'longrope' ? scaling.attentionFactor : 1;
}

/**
 * Partial rotary as a row order: the engine rotates pairs (j, j + headDim/2) of each head, so the
 * rotated dims of a Hugging Face head (pairs (i, i + rotaryDim/2), i < rotaryDim/2) go to
 * j = i and the pass-through dims (rotaryDim..headDim−1) to the remaining pairs, whose frequency is 0.
 * Returns, for each new row within a head, the Hugging Face row it holds [headDim]. Applied to the q
 * and k projection rows alike, it leaves every q·k product, and so attention, unchanged.
 */
export function partialRotaryRows(headDim: number, rotaryDim: number): Int32Array {
  const half = headDim / 2;
  const rh = rotaryDim / 2;
  const pass = (headDim - rotaryDim) / 2;
  const from = new Int32Array(headDim); // [headDim]
  for (let j = 0; j < half; j++) {
    if (j < rh) {
      from[j] = j;
      from[j + half] = j + rh;
    } else {
      from[j] = rotaryDim + (j - rh);
      from[j + half] = rotaryDim + pass + (j - rh);
    }
  }
  return from;
}
