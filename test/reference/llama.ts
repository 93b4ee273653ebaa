import { layerRope, layerWindow } from '../../src/model/layer-attention.ts';
import { ropeAttentionFactor } from '../../src/model/rope-freqs.ts';
import { f32Values, type HostTensor, type ModelConfig } from '../../src/model/types.ts';
import {
  addInPlace,
  attention,
  gatherRows,
  geluTanhMul,
  matmul,
  rmsnorm,
  rope,
  siluMul,
  softcapInPlace,
} from './ops.ts';

/**
 * Reference forward pass on the CPU (every supported architecture), with the same `rows` semantics
 * as the GPU runner: each row attends to cache positions <= its own (within its layer's window) and
 * writes its K/V at its position. Tensors as loadModelFiles gives them (Gemma's norms as 1 + w).
 */
export class ReferenceLlama {
  readonly kc: Float32Array[]; // L × [ctx, kvDim]
  readonly vc: Float32Array[]; // L × [ctx, kvDim]
  constructor(
    readonly cfg: ModelConfig,
    private readonly t: Map<string, HostTensor>,
    readonly ctx: number,
    /** GELU as llama.cpp's CPU backend computes it (geluTanhMul's f16Table), for judging against it. */
    private readonly llamaCppGelu = false,
  ) {
    const kvDim = cfg.numKvHeads * cfg.headDim;
    this.kc = Array.from({ length: cfg.numLayers }, () => new Float32Array(ctx * kvDim));
    this.vc = Array.from({ length: cfg.numLayers }, () => new Float32Array(ctx * kvDim));
  }

  private w(name: string): Float32Array {
    const t = this.t.get(name);
    if (!t) throw new Error(`missing ${name}`);
    return f32Values(t);
  }

  /** Returns logits [rows.length, V] for every row. */
  forward(rows: { token: number; position: number }[]): Float32Array {
    const c = this.cfg;
    const D = c.hiddenSize;
    const kvDim = c.numKvHeads * c.headDim;
    const pos = rows.map((r) => r.position);
    const x = gatherRows(
      this.w('model.embed_tokens.weight'),
      D,
      rows.map((r) => r.token),
    );
    if (c.gemma) for (let i = 0; i < x.length; i++) x[i] *= Math.fround(Math.sqrt(D));
    for (let l = 0; l < c.numLayers; l++) {
      const p = `model.layers.${l}.`;
      const bias = (n: string) => (c.attentionBias ? this.w(`${p}self_attn.${n}_proj.bias`) : undefined);
      const xn = rmsnorm(x, this.w(`${p}input_layernorm.weight`), D, c.rmsNormEps);
      const q = matmul(xn, this.w(`${p}self_attn.q_proj.weight`), D, bias('q'));
      const k = matmul(xn, this.w(`${p}self_attn.k_proj.weight`), D, bias('k'));
      const v = matmul(xn, this.w(`${p}self_attn.v_proj.weight`), D, bias('v'));
      if (c.qkNorm) {
        // per-head RMSNorm: q as [n·H, hd], k as [n·KV, hd]
        q.set(rmsnorm(q, this.w(`${p}self_attn.q_norm.weight`), c.headDim, c.rmsNormEps));
        k.set(rmsnorm(k, this.w(`${p}self_attn.k_norm.weight`), c.headDim, c.rmsNormEps));
      }
      const ro = {
        headDim: c.headDim,
        ...layerRope(c, l),
        rotaryDim: c.rotaryDim,
        contextLength: this.ctx,
      };
      rope(q, pos, { ...ro, nHeads: c.numHeads, rowStride: c.numHeads * c.headDim });
      rope(k, pos, { ...ro, nHeads: c.numKvHeads, rowStride: kvDim });
      // longrope's attention factor m on the rotated dims of q and k: as m² on q's alone (the keys
      // stay plainly rotated); rotated pairs are (j, j + hd/2), j < rotaryDim/2 (partialRotaryRows)
      const m2 = ropeAttentionFactor(c.ropeScaling) ** 2;
      const rh = (c.rotaryDim ?? c.headDim) / 2;
      for (let i = 0; m2 !== 1 && i < q.length; i++) if (i % (c.headDim / 2) < rh) q[i] *= m2;
      rows.forEach((r, i) => {
        this.kc[l].set(k.subarray(i * kvDim, (i + 1) * kvDim), r.position * kvDim);
        this.vc[l].set(v.subarray(i * kvDim, (i + 1) * kvDim), r.position * kvDim);
      });
      const att = attention(q, this.kc[l], this.vc[l], pos, {
        nHeads: c.numHeads,
        nKvHeads: c.numKvHeads,
        headDim: c.headDim,
        scale: c.attentionScale,
        window: layerWindow(c, l),
        softcap: c.attnLogitSoftcap,
      }).out;
      // Gemma: rmsnorm of each sublayer's output before the residual add
      const post = (y: Float32Array, norm: string) =>
        c.gemma ? rmsnorm(y, this.w(`${p}${norm}.weight`), D, c.rmsNormEps) : y;
      const o = matmul(att, this.w(`${p}self_attn.o_proj.weight`), c.numHeads * c.headDim);
      addInPlace(x, post(o, 'post_attention_layernorm'));
      const mlpNorm = c.gemma ? 'pre_feedforward_layernorm' : 'post_attention_layernorm';
      const xn2 = rmsnorm(x, this.w(`${p}${mlpNorm}.weight`), D, c.rmsNormEps);
      const gate = matmul(xn2, this.w(`${p}mlp.gate_proj.weight`), D);
      const up = matmul(xn2, this.w(`${p}mlp.up_proj.weight`), D);
      const h = c.gemma ? geluTanhMul(gate, up, this.llamaCppGelu) : siluMul(gate, up);
      const down = matmul(h, this.w(`${p}mlp.down_proj.weight`), c.intermediateSize);
      addInPlace(x, post(down, 'post_feedforward_layernorm'));
    }
    const head = this.t.has('lm_head.weight') ? 'lm_head.weight' : 'model.embed_tokens.weight';
    const logits = matmul(rmsnorm(x, this.w('model.norm.weight'), D, c.rmsNormEps), this.w(head), D);
    if (c.finalLogitSoftcap) softcapInPlace(logits, c.finalLogitSoftcap);
    return logits;
  }
}
