// Plain TypeScript references for every kernel (float64 accumulation), used by the kernel tests
// and by the reference forward pass.
import { ropeInvFreqs } from '../../src/model/rope-freqs.ts';
import type { RopeScaling } from '../../src/model/types.ts';
import { type KVDtype, roundF16 } from '../../src/util/kv-dtype.ts';
import { roundQ8 } from '../../src/util/kv-q8.ts';

/** out[r, :] = table[idx[r], :]; table [rows, dim] */
export function gatherRows(table: Float32Array, dim: number, idx: ArrayLike<number>): Float32Array {
  const out = new Float32Array(idx.length * dim);
  for (let r = 0; r < idx.length; r++) out.set(table.subarray(idx[r] * dim, (idx[r] + 1) * dim), r * dim);
  return out;
}

/** x [n, dim] → rmsnorm(x) * w */
export function rmsnorm(x: Float32Array, w: Float32Array, dim: number, eps: number): Float32Array {
  const out = new Float32Array(x.length);
  for (let r = 0; r < x.length / dim; r++) {
    let s = 0;
    for (let j = 0; j < dim; j++) s += x[r * dim + j] ** 2;
    const inv = 1 / Math.sqrt(s / dim + eps);
    for (let j = 0; j < dim; j++) out[r * dim + j] = x[r * dim + j] * inv * w[j];
  }
  return out;
}

/** y [n, out] = x [n, K] · W[out, K]^T (+ b [out]) */
export function matmul(x: Float32Array, w: Float32Array, K: number, bias?: Float32Array): Float32Array {
  const n = x.length / K;
  const outDim = w.length / K;
  const y = new Float32Array(n * outDim);
  for (let r = 0; r < n; r++) {
    for (let o = 0; o < outDim; o++) {
      let s = bias ? bias[o] : 0;
      for (let k = 0; k < K; k++) s += x[r * K + k] * w[o * K + k];
      y[r * outDim + o] = s;
    }
  }
  return y;
}

/**
 * In place: rotate-half RoPE of nHeads heads per row of x [n, rowStride] by angle pos[r] · invFreq[i]
 * (theta's frequencies, scaled by `scaling` when given).
 */
export function rope(
  x: Float32Array,
  pos: ArrayLike<number>,
  a: {
    nHeads: number;
    headDim: number;
    rowStride: number;
    theta: number;
    scaling?: RopeScaling;
    /** Partial rotary (pairs past rotaryDim/2 keep angle 0) and the context longrope picks by. */
    rotaryDim?: number;
    contextLength?: number;
  },
): void {
  const half = a.headDim / 2;
  const inv = ropeInvFreqs(a.headDim, a.theta, a.scaling, a); // [half]
  for (let r = 0; r < pos.length; r++) {
    for (let h = 0; h < a.nHeads; h++) {
      const base = r * a.rowStride + h * a.headDim;
      for (let i = 0; i < half; i++) {
        const ang = pos[r] * inv[i];
        const c = Math.cos(ang);
        const s = Math.sin(ang);
        const u = x[base + i];
        const v = x[base + i + half];
        x[base + i] = u * c - v * s;
        x[base + i + half] = v * c + u * s;
      }
    }
  }
}

/**
 * Grouped-query attention of rows q [n, H*hd] at positions pos over caches kc, vc [ctx, KV*hd],
 * causal by position: row r attends p in [lo, pos[r]], lo = pos[r] + 1 - window when a window is
 * set (else 0), with scores cap(q·k · scale), cap(s) = softcap·tanh(s / softcap) when softcap > 0.
 * Returns out [n, H*hd] and the weights probs [n, H, maxPos+1] (0 before lo).
 */
export function attention(
  q: Float32Array,
  kc: Float32Array,
  vc: Float32Array,
  pos: ArrayLike<number>,
  a: { nHeads: number; nKvHeads: number; headDim: number; scale?: number; window?: number; softcap?: number },
): { out: Float32Array; probs: Float64Array[][] } {
  const { nHeads: H, nKvHeads: KV, headDim: hd } = a;
  const scale = a.scale ?? 1 / Math.sqrt(hd);
  const cap = a.softcap ?? 0;
  const kvDim = KV * hd;
  const out = new Float32Array(pos.length * H * hd);
  const probs: Float64Array[][] = [];
  for (let r = 0; r < pos.length; r++) {
    probs.push([]);
    for (let h = 0; h < H; h++) {
      const koff = Math.floor(h / (H / KV)) * hd;
      const len = pos[r] + 1;
      const lo = a.window ? Math.max(0, len - a.window) : 0;
      const s = new Float64Array(len);
      let mx = -Infinity;
      for (let p = lo; p < len; p++) {
        let d = 0;
        for (let i = 0; i < hd; i++) d += q[(r * H + h) * hd + i] * kc[p * kvDim + koff + i];
        s[p] = cap > 0 ? cap * Math.tanh((d * scale) / cap) : d * scale;
        mx = Math.max(mx, s[p]);
      }
      let sum = 0;
      for (let p = lo; p < len; p++) {
        s[p] = Math.exp(s[p] - mx);
        sum += s[p];
      }
      for (let p = lo; p < len; p++) s[p] /= sum;
      for (let i = 0; i < hd; i++) {
        let acc = 0;
        for (let p = lo; p < len; p++) acc += s[p] * vc[p * kvDim + koff + i];
        out[(r * H + h) * hd + i] = acc;
      }
      probs[r].push(s);
    }
  }
  return { out, probs };
}

export function siluMul(gate: Float32Array, up: Float32Array): Float32Array {
  return gate.map((g, i) => (g / (1 + Math.exp(-g))) * up[i]);
}

/**
 * GeGLU with tanh GELU (gelu_pytorch_tanh): 0.5 g (1 + tanh(√(2/π) (g + 0.044715 g³))) · up.
 * `f16Table`: GELU as llama.cpp's CPU backend computes it (ggml-cpu/vec.h, GGML_GELU_FP16: g rounded
 * to f16, its f16-rounded GELU looked up; 0 below −10, g above 10), for judging against llama.cpp.
 */
export function geluTanhMul(gate: Float32Array, up: Float32Array, f16Table = false): Float32Array {
  const gelu = (g: number) => 0.5 * g * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (g + 0.044715 * g ** 3)));
  if (!f16Table) return gate.map((g, i) => gelu(g) * up[i]);
  return gate.map((g, i) => (g <= -10 ? 0 : g >= 10 ? g : roundF16(gelu(roundF16(g)))) * up[i]);
}

/** Soft-capping c·tanh(x / c) of every value (c > 0), in place. */
export function softcapInPlace(x: Float32Array, c: number): void {
  for (let i = 0; i < x.length; i++) x[i] = c * Math.tanh(x[i] / c);
}

export function addInPlace(x: Float32Array, y: Float32Array): void {
  for (let i = 0; i < x.length; i++) x[i] += y[i];
}

/** Index of the largest value of each row of logits [n, vocab] (lowest index on ties). */
export function argmax(logits: Float32Array, vocab: number): number[] {
  const ids: number[] = [];
  for (let r = 0; r < logits.length / vocab; r++) {
    let best = 0;
    for (let j = 1; j < vocab; j++) if (logits[r * vocab + j] > logits[r * vocab + best]) best = j;
    ids.push(best);
  }
  return ids;
}

/** Reference of the KV patch kernel: rows (src, dst, old) from ksrc/vsrc [T, kvDim] into kc/vc [ctx, kvDim]. */
export function kvPatch(
  rowmap: [number, number, number][],
  ksrc: Float32Array,
  vsrc: Float32Array,
  kc: Float32Array,
  vc: Float32Array,
  a: {
    nKvHeads: number;
    headDim: number;
    theta: number;
    scaling?: RopeScaling;
    rotaryDim?: number;
    contextLength?: number;
  },
): void {
  const kvDim = a.nKvHeads * a.headDim;
  for (const [src, dst, old] of rowmap) {
    const k = ksrc.slice(src * kvDim, (src + 1) * kvDim);
    const ro = { ...a, headDim: a.headDim };
    rope(k, [dst - old], { ...ro, nHeads: a.nKvHeads, rowStride: kvDim });
    kc.set(k, dst * kvDim);
    vc.set(vsrc.subarray(src * kvDim, (src + 1) * kvDim), dst * kvDim);
  }
}

/** dev[pos[r]] = |v[r] - vc[pos[r]]|_1 and score[j] = mean_h probs[h][j] * dev[j] */
export function deviationScores(
  v: Float32Array,
  vc: Float32Array,
  pos: number[],
  probs: ArrayLike<number>[],
  kvDim: number,
  len: number,
): Float64Array {
  const dev = new Float64Array(len);
  pos.forEach((p, r) => {
    let s = 0;
    for (let j = 0; j < kvDim; j++) s += Math.abs(v[r * kvDim + j] - vc[p * kvDim + j]);
    dev[p] = s;
  });
  const score = new Float64Array(len);
  for (let j = 0; j < len; j++) {
    let alpha = 0;
    for (const ph of probs) alpha += ph[j];
    score[j] = (alpha / probs.length) * dev[j];
  }
  return score;
}

/**
 * What a K/V store of `dtype` keeps of `a` (a copy): f16 rounds each value to the nearest half, q8
 * quantizes each group of `group` values (the model's q8GroupFor(headDim); a.length % group == 0). The f16 / q8 kernels' reference is the f32
 * reference with its stored K/V passed through this (they compute in f32 and narrow only what they
 * store; readers widen exactly).
 */
export function kvStored(a: Float32Array, dtype: KVDtype, group?: number): Float32Array {
  if (dtype === 'q8') return roundQ8(a, group ?? 0);
  return dtype === 'f16' ? a.map(roundF16) : a.slice();
}
