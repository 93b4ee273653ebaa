import type { RopeScaling } from './types.ts';

/**
 * RoPE's inverse frequencies [headDim/2] in float64: theta^(-2i/headDim), scaled as `scaling` says.
 * `llama3` follows transformers' `_compute_llama3_parameters` (the same values as llama.cpp's
 * `rope_freqs` divisors, which its converter derives from the same formula); `divisors` divides each
 * frequency by its own divisor as llama.cpp's ggml_rope_ext does with `freq_factors`.
 */
export function ropeInvFreqs(headDim: number, theta: number, scaling?: RopeScaling): Float64Array {
  const half = headDim / 2;
  const inv = new Float64Array(half); // [headDim/2]
  for (let i = 0; i < half; i++) inv[i] = theta ** (-(2 * i) / headDim);
  if (!scaling) return inv;
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
