import { partialRotaryRows } from '../rope-freqs.ts';
import type { ModelConfig } from '../types.ts';

/** One tensor's raw row-major bytes under a name (a checkpoint tensor or a part of one). */
export interface RawTensor {
  name: string;
  shape: number[];
  raw: Uint8Array;
}

/**
 * The tensors the forward pass runs from one checkpoint tensor, still raw: Phi-3's fused
 * `qkv_proj` [H·hd + 2·KV·hd, D] becomes q_proj / k_proj / v_proj and `gate_up_proj` [2F, D]
 * gate_proj / up_proj (row ranges: rows are whole in every format, quantized blocks run along them);
 * with partial rotary, q_proj and k_proj rows are put in partialRotaryRows order. Any other tensor
 * comes back as it is.
 */
export function splitFused(cfg: ModelConfig, t: RawTensor): RawTensor[] {
  const m = /^(.*)\.(self_attn\.qkv_proj|mlp\.gate_up_proj)\.weight$/.exec(t.name);
  if (!m) return [rotaryOrder(cfg, t)];
  const [, prefix, kind] = m;
  const rowBytes = t.raw.byteLength / t.shape[0];
  const cols = t.shape.slice(1);
  const q = cfg.numHeads * cfg.headDim;
  const kv = cfg.numKvHeads * cfg.headDim;
  const F = cfg.intermediateSize;
  const parts: [string, number][] =
    kind === 'self_attn.qkv_proj'
      ? [
          ['self_attn.q_proj', q],
          ['self_attn.k_proj', kv],
          ['self_attn.v_proj', kv],
        ]
      : [
          ['mlp.gate_proj', F],
          ['mlp.up_proj', F],
        ];
  const out: RawTensor[] = [];
  let row = 0;
  for (const [part, rows] of parts) {
    const raw = t.raw.subarray(row * rowBytes, (row + rows) * rowBytes);
    out.push(rotaryOrder(cfg, { name: `${prefix}.${part}.weight`, shape: [rows, ...cols], raw }));
    row += rows;
  }
  return out;
}

/** q_proj / k_proj rows in partialRotaryRows order when the config rotates part of each head. */
function rotaryOrder(cfg: ModelConfig, t: RawTensor): RawTensor {
  if (cfg.rotaryDim === undefined || cfg.rotaryDim === cfg.headDim) return t;
  if (!/\.self_attn\.(q|k)_proj\.weight$/.test(t.name)) return t;
  const hd = cfg.headDim;
  const from = partialRotaryRows(hd, cfg.rotaryDim);
  const rowBytes = t.raw.byteLength / t.shape[0];
  const out = new Uint8Array(t.raw.byteLength);
  for (let h = 0; h < t.shape[0] / hd; h++) {
    for (let j = 0; j < hd; j++) {
      const src = (h * hd + from[j]) * rowBytes;
      out.set(t.raw.subarray(src, src + rowBytes), (h * hd + j) * rowBytes);
    }
  }
  return { ...t, raw: out };
}
