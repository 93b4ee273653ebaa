import { ModelFormatError } from '../errors.ts';
import type { ModelConfig } from './types.ts';

/** Hugging Face tensor names of a Llama-family decoder. */
export const EMBED = 'model.embed_tokens.weight';
export const FINAL_NORM = 'model.norm.weight';
export const LM_HEAD = 'lm_head.weight';

export function layerPrefix(i: number): string {
  return `model.layers.${i}.`;
}

/**
 * Every tensor the forward pass needs, with its shape (row-major, [out, in] for projections), in
 * checkpoint order: embedding, layers 0..L-1, final norm, then lm_head unless tied.
 *
 *   embed_tokens [V, D]; per layer: input_layernorm [D], q_proj [H·hd, D] (+ bias [H·hd]),
 *   k_proj / v_proj [KV·hd, D] (+ bias [KV·hd]), q_norm / k_norm [hd] (qkNorm), o_proj [D, H·hd],
 *   post_attention_layernorm [D] (Gemma: after attention, with pre_feedforward_layernorm [D] before
 *   the MLP and post_feedforward_layernorm [D] after it),
 *   gate_proj / up_proj [F, D], down_proj [D, F]; norm [D]; lm_head [V, D]. Phi-3 has q/k/v_proj
 *   fused as qkv_proj [(H + 2·KV)·hd, D] and gate/up_proj as gate_up_proj [2F, D] (split at load,
 *   see splitFused).
 */
export function expectedTensors(cfg: ModelConfig): Map<string, number[]> {
  const { vocabSize: V, hiddenSize: D, intermediateSize: F, headDim: hd } = cfg;
  const q = cfg.numHeads * hd;
  const kv = cfg.numKvHeads * hd;
  const m = new Map<string, number[]>();
  m.set(EMBED, [V, D]);
  for (let i = 0; i < cfg.numLayers; i++) {
    const p = layerPrefix(i);
    m.set(`${p}input_layernorm.weight`, [D]);
    if (cfg.modelType === 'phi3') {
      m.set(`${p}self_attn.qkv_proj.weight`, [q + 2 * kv, D]);
    } else {
      m.set(`${p}self_attn.q_proj.weight`, [q, D]);
      m.set(`${p}self_attn.k_proj.weight`, [kv, D]);
      m.set(`${p}self_attn.v_proj.weight`, [kv, D]);
    }
    if (cfg.attentionBias) {
      m.set(`${p}self_attn.q_proj.bias`, [q]);
      m.set(`${p}self_attn.k_proj.bias`, [kv]);
      m.set(`${p}self_attn.v_proj.bias`, [kv]);
    }
    if (cfg.qkNorm) {
      m.set(`${p}self_attn.q_norm.weight`, [hd]);
      m.set(`${p}self_attn.k_norm.weight`, [hd]);
    }
    m.set(`${p}self_attn.o_proj.weight`, [D, q]);
    m.set(`${p}post_attention_layernorm.weight`, [D]);
    if (cfg.gemma) {
      m.set(`${p}pre_feedforward_layernorm.weight`, [D]);
      m.set(`${p}post_feedforward_layernorm.weight`, [D]);
    }
    if (cfg.modelType === 'phi3') {
      m.set(`${p}mlp.gate_up_proj.weight`, [2 * F, D]);
    } else {
      m.set(`${p}mlp.gate_proj.weight`, [F, D]);
      m.set(`${p}mlp.up_proj.weight`, [F, D]);
    }
    m.set(`${p}mlp.down_proj.weight`, [D, F]);
  }
  m.set(FINAL_NORM, [D]);
  if (!cfg.tieWordEmbeddings) m.set(LM_HEAD, [V, D]);
  return m;
}

/**
 * Checks that every tensor the config needs is present with the right shape. An untied model
 * without `lm_head.weight` is an error; a tied model may still carry one (it must then have the
 * embedding's shape). Other extra tensors (e.g. rotary inv_freq buffers) are allowed.
 */
export function validateTensors(cfg: ModelConfig, tensors: { name: string; shape: number[] }[]): void {
  const have = new Map(tensors.map((t) => [t.name, t.shape]));
  crossCheck(cfg, have);
  const expected = expectedTensors(cfg);
  if (cfg.tieWordEmbeddings && have.has(LM_HEAD)) expected.set(LM_HEAD, [cfg.vocabSize, cfg.hiddenSize]);
  for (const [name, shape] of expected) {
    const got = have.get(name);
    if (got === undefined) {
      if (name === LM_HEAD) {
        throw new ModelFormatError(
          `The checkpoint has no ${LM_HEAD} and config.json says tie_word_embeddings is false: the output head is missing.`,
        );
      }
      throw new ModelFormatError(
        `The checkpoint is missing tensor ${name} (expected shape [${shape.join(', ')}]).`,
      );
    }
    if (got.length !== shape.length || got.some((d, i) => d !== shape[i])) {
      throw new ModelFormatError(
        `Tensor ${name} has shape [${got.join(', ')}] but config.json implies [${shape.join(', ')}].`,
      );
    }
  }
}

/**
 * The config's layer count, vocabulary and hidden size against the header, before any per-layer work:
 * a config claiming a million layers fails here at once instead of after building a million names.
 */
function crossCheck(cfg: ModelConfig, have: Map<string, number[]>): void {
  const layers = new Set<number>();
  let top = -1;
  for (const name of have.keys()) {
    const m = /^model\.layers\.(\d+)\./.exec(name);
    if (!m) continue;
    layers.add(Number(m[1]));
    top = Math.max(top, Number(m[1]));
  }
  if (layers.size !== cfg.numLayers || top !== cfg.numLayers - 1) {
    throw new ModelFormatError(
      `config.json says num_hidden_layers is ${cfg.numLayers}, but the checkpoint holds ${layers.size} layers (highest index ${top}).`,
    );
  }
  const embed = have.get(EMBED);
  const want = [cfg.vocabSize, cfg.hiddenSize];
  if (embed && (embed.length !== 2 || embed[0] !== want[0] || embed[1] !== want[1])) {
    throw new ModelFormatError(
      `Tensor ${EMBED} has shape [${embed.join(', ')}] but config.json implies vocab_size × hidden_size = [${want.join(', ')}].`,
    );
  }
}
