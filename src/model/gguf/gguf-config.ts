import { ModelFormatError, UnsupportedArchitectureError } from '../../errors.ts';
import { parseConfig } from '../config.ts';
import { EMBED, FINAL_NORM, LM_HEAD, layerPrefix } from '../layout.ts';
import type { ModelConfig, RopeScaling } from '../types.ts';
import { GGML_TYPES, type GgmlTypeId, ggmlBytes, isGgmlType } from './gguf-blocks.ts';
import type { GgufHeader } from './gguf-header.ts';

const ARCHS = ['llama', 'qwen2', 'qwen3', 'phi3', 'gemma2', 'gemma3'] as const;

/**
 * The ModelConfig of a GGUF file, from `<arch>.*` metadata (as llama.cpp's converter writes it):
 * embedding_length, block_count, feed_forward_length, attention.head_count(_kv), context_length,
 * attention.layer_norm_rms_epsilon, rope.freq_base, rope.dimension_count, attention.key_length;
 * rope.scaling.type / rope.scaling.factor (`linear`); vocabulary size = the length of
 * tokenizer.ggml.tokens; tied LM head when `output.weight` is absent. Llama 3's scaling is no key but
 * the `rope_freqs.weight` tensor, Phi-3's longrope the `rope_factors_long/short.weight` tensors (with
 * rope.scaling.attn_factor and rope.scaling.original_context_length): loadGgufFiles reads them into
 * `ropeScaling` (see ggufRopeTensors). Phi-3's rope.dimension_count below the head size is partial
 * rotary.
 * The result goes through parseConfig, so it gets the same checks as a config.json.
 * Throws UnsupportedArchitectureError for other architectures or RoPE scaling types, ModelFormatError
 * for missing or mistyped keys.
 */
export function ggufConfig(header: GgufHeader): ModelConfig {
  const m = header.metadata;
  const arch = m['general.architecture'];
  if (typeof arch !== 'string' || !(ARCHS as readonly string[]).includes(arch)) {
    throw new UnsupportedArchitectureError(
      `GGUF architecture ${JSON.stringify(arch ?? null)} in ${header.file} is not supported: expected ${ARCHS.join(' or ')}.`,
    );
  }
  const key = (k: string) => `${arch}.${k}`;
  const num = (k: string, required = true): number | undefined => {
    const v = m[k];
    if (v === undefined) {
      if (required) throw new ModelFormatError(`${header.file}: GGUF metadata key ${k} is missing.`);
      return undefined;
    }
    if ((typeof v !== 'number' && typeof v !== 'bigint') || !Number.isFinite(Number(v))) {
      throw new ModelFormatError(
        `${header.file}: GGUF metadata key ${k} must be a number (got ${String(v)}).`,
      );
    }
    return Number(v);
  };
  const scaling = m[key('rope.scaling.type')];
  if (scaling !== undefined && scaling !== 'none' && scaling !== 'linear') {
    throw new UnsupportedArchitectureError(
      `${header.file}: rope scaling '${String(scaling)}' is not supported: only plain and linear RoPE are implemented (and Llama 3's rope_freqs).`,
    );
  }
  const factor = scaling === 'linear' ? (num(key('rope.scaling.factor'), false) ?? 1) : 1;
  if (!(factor > 0)) {
    throw new ModelFormatError(
      `${header.file}: ${key('rope.scaling.factor')} must be positive (got ${factor}).`,
    );
  }
  const count = (k: string, required = true): number | undefined => {
    const v = num(k, required);
    if (v !== undefined && !(Number.isSafeInteger(v) && v > 0))
      throw new ModelFormatError(
        `${header.file}: GGUF metadata key ${k} must be a positive integer (got ${v}).`,
      );
    return v;
  };
  const hidden = count(key('embedding_length')) as number;
  const heads = count(key('attention.head_count')) as number;
  const keyLength = count(key('attention.key_length'), false);
  if (keyLength === undefined && hidden % heads !== 0)
    throw new ModelFormatError(
      `${header.file}: ${key('embedding_length')} ${hidden} is not a multiple of ${key('attention.head_count')} ${heads} (and there is no key_length).`,
    );
  const headDim = keyLength ?? hidden / heads;
  const kvHeads = count(key('attention.head_count_kv'), false) ?? heads;
  if (heads % kvHeads !== 0)
    throw new ModelFormatError(
      `${header.file}: ${key('attention.head_count')} ${heads} is not a multiple of ${key('attention.head_count_kv')} ${kvHeads}.`,
    );
  checkGeometry(header, hidden);
  const ropeDims = num(key('rope.dimension_count'), false);
  if (ropeDims !== undefined && ropeDims !== headDim && arch !== 'phi3') {
    throw new UnsupportedArchitectureError(
      `${header.file}: ${key('rope.dimension_count')} is ${ropeDims} but the head size is ${headDim}: partial RoPE is not supported.`,
    );
  }
  const tokens = m['tokenizer.ggml.tokens'];
  const vocab = Array.isArray(tokens) ? tokens.length : num(key('vocab_size'));
  const eos = num('tokenizer.ggml.eos_token_id', false);
  return parseConfig({
    model_type: arch,
    hidden_size: hidden,
    intermediate_size: num(key('feed_forward_length')),
    num_hidden_layers: num(key('block_count')),
    num_attention_heads: heads,
    num_key_value_heads: kvHeads,
    head_dim: headDim,
    max_position_embeddings: num(key('context_length')),
    rms_norm_eps: shortestF32(num(key('attention.layer_norm_rms_epsilon')) as number),
    rope_theta: shortestF32(num(key('rope.freq_base'), false) ?? 10000),
    rope_scaling: factor === 1 ? null : { rope_type: 'linear', factor: shortestF32(factor) },
    partial_rotary_factor: ropeDims !== undefined && arch === 'phi3' ? ropeDims / headDim : undefined,
    vocab_size: vocab,
    tie_word_embeddings: !header.tensors.some((t) => t.name === 'output.weight'),
    bos_token_id: num('tokenizer.ggml.bos_token_id', false) ?? null,
    eos_token_id: eos ?? null,
    ...(arch === 'gemma2' || (arch as string) === 'gemma3'
      ? gemmaFields(header, arch as 'gemma2' | 'gemma3', num, headDim, hidden, heads)
      : {}),
  });
}

/**
 * Gemma's config.json fields from llama.cpp's keys and defaults (src/models/gemma2.cpp, gemma3.cpp):
 * Gemma 2's window (default 4096) and soft-caps (defaults 50 and 30); Gemma 3's window (none when
 * absent), final soft-cap (none when absent) and local RoPE base (rope.freq_base_swa, default 10000).
 * The attention scale is 1/√head_dim, except n_embd / n_head for the 46-layer Gemma 2 27B (and
 * Gemma 3's 62-layer 27B), as llama.cpp sets it. attention.sliding_window_pattern n (llama.cpp's
 * override of the period) is read; a per-layer array is refused.
 */
function gemmaFields(
  header: GgufHeader,
  arch: 'gemma2' | 'gemma3',
  num: (k: string, required?: boolean) => number | undefined,
  headDim: number,
  hidden: number,
  heads: number,
): Record<string, unknown> {
  const key = (k: string) => `${arch}.${k}`;
  const patternKey = key('attention.sliding_window_pattern');
  if (Array.isArray(header.metadata[patternKey])) {
    throw new UnsupportedArchitectureError(
      `${header.file}: ${patternKey} as a per-layer array is not supported: only a period n (n − 1 sliding layers, then a global one) is.`,
    );
  }
  const pattern = num(patternKey, false);
  const layers = num(key('block_count')) as number;
  const big = (arch === 'gemma2' && layers === 46) || (arch === 'gemma3' && layers === 62);
  const window = num(key('attention.sliding_window'), false);
  const final = num(key('final_logit_softcapping'), false);
  const f = (v: number | undefined) => (v === undefined ? undefined : shortestF32(v));
  if (arch === 'gemma2') {
    if (pattern !== undefined && pattern !== 2) {
      throw new UnsupportedArchitectureError(
        `${header.file}: ${patternKey} ${pattern} is not supported for Gemma 2 (its layers alternate: 2).`,
      );
    }
    return {
      hidden_activation: 'gelu_pytorch_tanh',
      sliding_window: window ?? 4096,
      attn_logit_softcapping: f(num(key('attn_logit_softcapping'), false)) ?? 50,
      final_logit_softcapping: f(final) ?? 30,
      query_pre_attn_scalar: big ? hidden / heads : headDim,
    };
  }
  return {
    hidden_activation: 'gelu_pytorch_tanh',
    ...(window
      ? { sliding_window: window, sliding_window_pattern: pattern ?? 6 }
      : { sliding_window_pattern: 1 }),
    final_logit_softcapping: f(final),
    rope_local_base_freq: f(num(key('rope.freq_base_swa'), false)) ?? 10000,
    query_pre_attn_scalar: big ? hidden / heads : headDim,
  };
}

/** The embedding must have the width the metadata gives (other shapes are checked against the config later). */
function checkGeometry(header: GgufHeader, hidden: number): void {
  const embd = header.tensors.find((t) => t.name === 'token_embd.weight')?.shape;
  if (embd && embd[embd.length - 1] !== hidden)
    throw new ModelFormatError(
      `${header.file}: embedding_length is ${hidden} but token_embd.weight has rows of ${embd[embd.length - 1]} values.`,
    );
}

/** The shortest decimal that is the same f32 (GGUF stores f32: 1e-5 reads back as 9.99999974e-6). */
function shortestF32(x: number): number {
  for (let p = 1; p < 17; p++) {
    const v = Number(x.toPrecision(p));
    if (Math.fround(v) === Math.fround(x)) return v;
  }
  return x;
}

/** llama.cpp's per-frequency RoPE factor tensors of each architecture, F32 [rotated dims / 2]. */
const ROPE_TENSORS: Partial<Record<ModelConfig['modelType'], readonly string[]>> = {
  llama: ['rope_freqs.weight'], // Llama 3's divisors
  phi3: ['rope_factors_long.weight', 'rope_factors_short.weight'], // longrope
};

/**
 * Where the header's RoPE factor tensors are (see ROPE_TENSORS), by name; empty when there are none.
 * Throws ModelFormatError for another type or shape, one of a pair missing or a range past the
 * file's end, and UnsupportedArchitectureError beside a rope scaling from metadata (llama.cpp would
 * apply both).
 */
export function ggufRopeTensors(
  header: GgufHeader,
  cfg: ModelConfig,
): Map<string, { start: number; byteLength: number }> {
  const out = new Map<string, { start: number; byteLength: number }>();
  const names = ROPE_TENSORS[cfg.modelType] ?? [];
  const half = (cfg.rotaryDim ?? cfg.headDim) / 2;
  for (const t of header.tensors) {
    if (!names.includes(t.name)) continue;
    if (t.type !== 0 || t.shape.length !== 1 || t.shape[0] !== half) {
      throw new ModelFormatError(
        `${header.file}: ${t.name} must be F32 [${half}] (got type ${t.type}, shape [${t.shape.join(', ')}]).`,
      );
    }
    if (cfg.ropeScaling) {
      throw new UnsupportedArchitectureError(
        `${header.file}: ${t.name} together with rope scaling '${cfg.ropeScaling.type}' is not supported.`,
      );
    }
    if (t.start + half * 4 > header.size) {
      throw new ModelFormatError(`${header.file} is truncated: ${t.name} ends past the file's end.`);
    }
    out.set(t.name, { start: t.start, byteLength: half * 4 });
  }
  if (out.size > 0 && out.size !== names.length) {
    throw new ModelFormatError(
      `${header.file}: of ${names.join(' and ')}, only ${[...out.keys()]} is present.`,
    );
  }
  return out;
}

/**
 * The rope scaling llama.cpp's RoPE factor tensors stand for (values by tensor name, see
 * ggufRopeTensors): Llama 3's `divisors`, or Phi-3's `longrope` with the metadata's attention factor
 * (default 1) and original context (default the context length).
 */
export function ggufRopeScaling(
  header: GgufHeader,
  cfg: ModelConfig,
  values: Map<string, number[]>,
): RopeScaling | undefined {
  const bad = [...values].find(([, v]) => !v.every((d) => Number.isFinite(d) && d > 0));
  if (bad)
    throw new ModelFormatError(`${header.file}: ${bad[0]} holds a factor that is not positive and finite.`);
  const freqs = values.get('rope_freqs.weight');
  if (freqs) return { type: 'divisors', divisors: freqs };
  const long = values.get('rope_factors_long.weight');
  const short = values.get('rope_factors_short.weight');
  if (!long || !short) return undefined;
  const meta = (k: string): number | undefined => {
    const v = header.metadata[`${cfg.modelType}.${k}`];
    return typeof v === 'number' && Number.isFinite(v) && v > 0 ? v : undefined;
  };
  return {
    type: 'longrope',
    shortFactor: short,
    longFactor: long,
    originalMaxPositions: meta('rope.scaling.original_context_length') ?? cfg.maxPositions,
    attentionFactor: meta('rope.scaling.attn_factor') ?? 1,
  };
}

/** A GGUF tensor under its Hugging Face name, with where its bytes are and how to undo llama.cpp's Q/K row order. */
export interface GgufTensor {
  name: string;
  /** The tensor's name in the GGUF file. */
  ggufName: string;
  shape: number[];
  type: GgmlTypeId;
  start: number;
  byteLength: number;
  /** For llama attn_q / attn_k: the head count llama.cpp's converter permuted the rows with. */
  permuteHeads?: number;
}

const LAYER_NAMES: Record<string, string> = {
  attn_norm: 'input_layernorm',
  attn_q: 'self_attn.q_proj',
  attn_k: 'self_attn.k_proj',
  attn_v: 'self_attn.v_proj',
  attn_output: 'self_attn.o_proj',
  attn_q_norm: 'self_attn.q_norm',
  attn_qkv: 'self_attn.qkv_proj',
  attn_k_norm: 'self_attn.k_norm',
  ffn_norm: 'post_attention_layernorm',
  ffn_gate: 'mlp.gate_proj',
  ffn_up: 'mlp.up_proj',
  ffn_down: 'mlp.down_proj',
};
/** Gemma's norms: post_attention_layernorm follows attention, pre_feedforward_layernorm precedes the MLP. */
const GEMMA_LAYER_NAMES: Record<string, string> = {
  ...Object.fromEntries(Object.entries(LAYER_NAMES).filter(([k]) => k !== 'attn_qkv')),
  post_attention_norm: 'post_attention_layernorm',
  ffn_norm: 'pre_feedforward_layernorm',
  post_ffw_norm: 'post_feedforward_layernorm',
};
const TOP_NAMES: Record<string, string> = {
  'token_embd.weight': EMBED,
  'output_norm.weight': FINAL_NORM,
  'output.weight': LM_HEAD,
};

/**
 * GGUF tensor name → Hugging Face name, or null for a name this engine does not know. Phi-3's
 * `ffn_up` holds gate and up fused (gate_up_proj).
 */
export function hfTensorName(name: string, modelType?: ModelConfig['modelType']): string | null {
  if (Object.hasOwn(TOP_NAMES, name)) return TOP_NAMES[name];
  const m = /^blk\.(\d+)\.([a-z_]+)\.(weight|bias)$/.exec(name);
  const gemma = modelType === 'gemma2' || modelType === 'gemma3';
  const names = gemma ? GEMMA_LAYER_NAMES : LAYER_NAMES;
  if (!m || !Object.hasOwn(names, m[2])) return null;
  const hf = modelType === 'phi3' && m[2] === 'ffn_up' ? 'mlp.gate_up_proj' : names[m[2]];
  return `${layerPrefix(Number(m[1]))}${hf}.${m[3]}`;
}

/**
 * The header's tensors under Hugging Face names, sorted by file offset. Throws, before any tensor
 * data is read, UnsupportedArchitectureError for a tensor of an unsupported type or an unknown name
 * (naming both) and ModelFormatError for a size that is not whole blocks or data past the file's end.
 */
export function ggufTensors(header: GgufHeader, cfg: ModelConfig): GgufTensor[] {
  const out: GgufTensor[] = [];
  for (const t of header.tensors) {
    if (ROPE_TENSORS[cfg.modelType]?.includes(t.name)) continue; // read into the config (ggufRopeTensors)
    if (!isGgmlType(t.type)) {
      throw new UnsupportedArchitectureError(
        `Tensor ${t.name} in ${header.file} has GGML type ${ggmlTypeLabel(t.type)}, which is not supported (supported: ${Object.values(
          GGML_TYPES,
        )
          .map((x) => x.name)
          .join(', ')}).`,
      );
    }
    const name = hfTensorName(t.name, cfg.modelType);
    if (name === null) {
      throw new UnsupportedArchitectureError(
        `Tensor ${t.name} in ${header.file} is not part of the ${cfg.modelType} architecture this engine implements.`,
      );
    }
    const n = t.shape.reduce((a, b) => a * b, 1);
    const cols = t.shape[t.shape.length - 1] ?? 1;
    if (cols % GGML_TYPES[t.type].elems !== 0) {
      throw new ModelFormatError(
        `Tensor ${t.name} in ${header.file}: rows of ${cols} values are not whole ${GGML_TYPES[t.type].name} blocks.`,
      );
    }
    const byteLength = ggmlBytes(t.type, n);
    if (t.start + byteLength > header.size) {
      throw new ModelFormatError(
        `${header.file} is truncated: tensor ${t.name} needs bytes up to ${t.start + byteLength} but the file has ${header.size} bytes.`,
      );
    }
    const qk = /\.self_attn\.(q|k)_proj\.weight$/.exec(name);
    const permuteHeads =
      cfg.modelType === 'llama' && qk ? (qk[1] === 'q' ? cfg.numHeads : cfg.numKvHeads) : undefined;
    out.push({
      name,
      ggufName: t.name,
      shape: t.shape,
      type: t.type,
      start: t.start,
      byteLength,
      permuteHeads,
    });
  }
  checkPacking(header);
  return out.sort((a, b) => a.start - b.start);
}

/**
 * gguf.cpp's rule: in header order, each tensor's data starts where the one before ends, padded to
 * the alignment, from the start of the data section. So every offset is aligned and no two tensors
 * share bytes. (A tensor of an unknown type or partial blocks is refused by the caller.)
 */
function checkPacking(header: GgufHeader): void {
  let expected = 0;
  for (const t of header.tensors) {
    if (!isGgmlType(t.type)) return;
    const n = t.shape.reduce((a, b) => a * b, 1);
    if (n % GGML_TYPES[t.type].elems !== 0) return;
    const offset = t.start - header.dataStart;
    if (offset !== expected) {
      const why =
        offset % header.alignment !== 0
          ? `is not a multiple of the alignment ${header.alignment}`
          : offset < expected
            ? 'overlaps the tensor before it'
            : 'leaves a gap after the tensor before it';
      throw new ModelFormatError(
        `${header.file}: tensor ${t.name} starts at data offset ${offset}, expected ${expected}: its offset ${why}.`,
      );
    }
    expected += Math.ceil(ggmlBytes(t.type, n) / header.alignment) * header.alignment;
  }
}

/** "Q5_K (13)" for known GGML types, else the id. */
function ggmlTypeLabel(id: number): string {
  const names: Record<number, string> = {
    7: 'Q5_1',
    9: 'Q8_1',
    10: 'Q2_K',
    11: 'Q3_K',
    13: 'Q5_K',
    15: 'Q8_K',
    16: 'IQ2_XXS',
    17: 'IQ2_XS',
    18: 'IQ3_XXS',
    19: 'IQ1_S',
    20: 'IQ4_NL',
    21: 'IQ3_S',
    22: 'IQ2_S',
    23: 'IQ4_XS',
    24: 'I8',
    25: 'I16',
    26: 'I32',
    27: 'I64',
    28: 'F64',
    29: 'IQ1_M',
  };
  return names[id] ? `${names[id]} (${id})` : `id ${id}`;
}

/**
 * Undoes llama.cpp's Q/K row permutation for the llama architecture: its converter stores HF row
 * h·hd + j·hd/2 + i (rotate-half pairs) at row h·hd + 2i + j (interleaved pairs). Works on raw rows of
 * any type (quantized blocks run along a row). Returns rows in Hugging Face order.
 */
export function unpermuteRows(raw: Uint8Array, rows: number, heads: number): Uint8Array {
  const rowBytes = raw.byteLength / rows;
  const hd = rows / heads;
  const half = hd / 2;
  const out = new Uint8Array(raw.byteLength);
  for (let h = 0; h < heads; h++) {
    for (let i = 0; i < half; i++) {
      for (let j = 0; j < 2; j++) {
        const from = (h * hd + 2 * i + j) * rowBytes;
        out.set(raw.subarray(from, from + rowBytes), (h * hd + j * half + i) * rowBytes);
      }
    }
  }
  return out;
}
