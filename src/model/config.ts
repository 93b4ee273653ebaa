import { ModelFormatError, UnsupportedArchitectureError } from '../errors.ts';
import type { ModelConfig, RopeScaling } from './types.ts';

type Json = Record<string, unknown>;

const ARCHITECTURES: Record<string, ModelConfig['modelType']> = {
  LlamaForCausalLM: 'llama',
  MistralForCausalLM: 'mistral',
  Qwen2ForCausalLM: 'qwen2',
  Qwen3ForCausalLM: 'qwen3',
  Phi3ForCausalLM: 'phi3',
  Gemma2ForCausalLM: 'gemma2',
  Gemma3ForCausalLM: 'gemma3',
  Gemma3ForConditionalGeneration: 'gemma3', // its text model (see textConfig)
};
const MODEL_TYPES: readonly ModelConfig['modelType'][] = [
  'llama',
  'mistral',
  'qwen2',
  'qwen3',
  'phi3',
  'gemma2',
  'gemma3',
];
/** model_type names read as another (Gemma 3's text model). */
const MODEL_TYPE_ALIASES: Record<string, ModelConfig['modelType']> = { gemma3_text: 'gemma3' };

/**
 * Normalises a Hugging Face `config.json` of a Llama-family decoder (Llama 2/3.x, SmolLM2, TinyLlama,
 * Mistral, Qwen2, Qwen3) into a `ModelConfig`.
 *
 * Defaults: num_key_value_heads = num_attention_heads; head_dim = hidden_size / num_attention_heads;
 * rope_theta = 10000 (also read from transformers v5 `rope_parameters`); rms_norm_eps = 1e-6;
 * tie_word_embeddings = false; hidden_act = silu. Qwen2 always has q/k/v biases; Qwen3 never has them
 * and always normalises each query and key head (q_norm / k_norm) before RoPE. `rope_scaling` (or
 * `rope_parameters`) of type `linear` or `llama3` becomes `ropeScaling`. Phi-3 (fused qkv_proj and
 * gate_up_proj, split at load) may have `longrope` (alias `su`) scaling and a partial_rotary_factor
 * (`rotaryDim` = headDim × factor).
 *
 * Throws `ModelFormatError` (naming the field) for missing or mistyped fields and
 * `UnsupportedArchitectureError` for what the engine does not implement: other model types,
 * other rope scaling types, an active sliding window, activations other than SiLU, MLP biases,
 * `attention_bias` on Llama or Qwen3 (it also adds an o_proj bias), or heads not divisible by KV heads.
 */
export function parseConfig(json: unknown): ModelConfig {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new ModelFormatError('config.json must hold a JSON object.');
  }
  const c = isMultimodalGemma3(json) ? gemma3TextConfig(json as Json) : (json as Json);
  const modelType = readModelType(c);

  const hiddenSize = posInt(c, 'hidden_size');
  const numHeads = posInt(c, 'num_attention_heads');
  const numKvHeads = optional(c, 'num_key_value_heads', posInt) ?? numHeads;
  if (numHeads % numKvHeads !== 0) {
    throw new UnsupportedArchitectureError(
      `num_attention_heads (${numHeads}) is not a multiple of num_key_value_heads (${numKvHeads}); grouped-query attention needs whole groups.`,
    );
  }
  let headDim = optional(c, 'head_dim', posInt);
  if (headDim === undefined) {
    if (hiddenSize % numHeads !== 0) {
      throw new ModelFormatError(
        `config.json has no head_dim and hidden_size (${hiddenSize}) is not a multiple of num_attention_heads (${numHeads}).`,
      );
    }
    headDim = hiddenSize / numHeads;
  }
  if (headDim % 2 !== 0)
    throw new UnsupportedArchitectureError(`head_dim ${headDim} is odd; RoPE needs an even head_dim.`);
  const maxPositions = posInt(c, 'max_position_embeddings');

  const gemma = modelType === 'gemma2' || modelType === 'gemma3';
  checkActivation(c, gemma);
  if (optional(c, 'mlp_bias', bool) === true) {
    throw new UnsupportedArchitectureError(
      'mlp_bias=true is not supported: the MLP projections must have no bias.',
    );
  }
  const rotaryDim = readRotaryDim(c, headDim);
  const { theta: ropeTheta, scaling: ropeScaling } = readRope(
    c,
    modelType,
    rotaryDim ?? headDim,
    maxPositions,
  );
  if (rotaryDim !== undefined && ropeScaling && ropeScaling.type !== 'longrope') {
    throw new UnsupportedArchitectureError(
      `partial rotary (${rotaryDim} of ${headDim} dims) with rope scaling '${ropeScaling.type}' is not supported.`,
    );
  }
  const window = readSlidingWindow(c, modelType, maxPositions, layerCount(c));

  // Llama's, Qwen3's and Gemma's attention_bias puts a bias on o_proj too, which the forward pass does
  // not have. (Mistral has no such option; Qwen2 always has q/k/v biases and none on o_proj.)
  if (
    (modelType === 'llama' || modelType === 'qwen3' || gemma) &&
    optional(c, 'attention_bias', bool) === true
  ) {
    throw new UnsupportedArchitectureError(
      `attention_bias=true is not supported for ${modelType}: it adds a bias to o_proj as well as q/k/v, and this engine has no o_proj bias.`,
    );
  }
  const attentionBias = modelType === 'qwen2';

  const vocabSize = posInt(c, 'vocab_size');
  const bosTokenId = optional(c, 'bos_token_id', tokenId) ?? null;
  const eosTokenIds = readEos(c);
  // The BOS id is fed to the model; an EOS id past the vocabulary is merely never produced.
  if (bosTokenId !== null && bosTokenId >= vocabSize) {
    throw new ModelFormatError(
      `config.json field bos_token_id is ${bosTokenId}, outside vocab_size ${vocabSize}.`,
    );
  }
  return {
    modelType,
    vocabSize,
    hiddenSize,
    intermediateSize: posInt(c, 'intermediate_size'),
    numLayers: layerCount(c),
    numHeads,
    numKvHeads,
    headDim,
    maxPositions,
    rmsNormEps: optional(c, 'rms_norm_eps', f32In(RMS_NORM_EPS)) ?? 1e-6,
    ropeTheta,
    tieWordEmbeddings: optional(c, 'tie_word_embeddings', bool) ?? gemma, // Gemma's default: tied
    attentionBias,
    ...(modelType === 'qwen3' || modelType === 'gemma3' ? { qkNorm: true as const } : {}),
    ...(ropeScaling ? { ropeScaling } : {}),
    ...(rotaryDim !== undefined ? { rotaryDim } : {}),
    ...window,
    ...(gemma ? readGemma(c, modelType, headDim) : {}),
    bosTokenId,
    eosTokenIds,
  };
}

/** Whether config.json is Gemma 3's multimodal one (model_type gemma3 with a text_config). */
export function isMultimodalGemma3(json: unknown): boolean {
  const c = json as Json;
  return c?.model_type === 'gemma3' && typeof c.text_config === 'object' && c.text_config !== null;
}

/** transformers' Gemma3TextConfig defaults, which multimodal configs' sparse text_config leaves out. */
const GEMMA3_TEXT_DEFAULTS: Json = {
  vocab_size: 262208,
  hidden_size: 2304,
  intermediate_size: 9216,
  num_hidden_layers: 26,
  num_attention_heads: 8,
  num_key_value_heads: 4,
  head_dim: 256,
  hidden_activation: 'gelu_pytorch_tanh',
  max_position_embeddings: 131072,
  rms_norm_eps: 1e-6,
  rope_theta: 1000000,
  query_pre_attn_scalar: 256,
  sliding_window: 4096,
  sliding_window_pattern: 6,
  rope_local_base_freq: 10000,
  tie_word_embeddings: true,
  bos_token_id: 2,
  eos_token_id: 1,
};

/**
 * The text model's config of a multimodal Gemma 3 config.json (as llama.cpp's converter reads it:
 * the top level with text_config over it, here over Gemma3TextConfig's defaults).
 */
function gemma3TextConfig(c: Json): Json {
  const { text_config, vision_config: _, architectures: __, ...top } = c;
  return {
    ...GEMMA3_TEXT_DEFAULTS,
    ...top,
    ...(text_config as Json),
    architectures: ['Gemma3ForCausalLM'],
    model_type: 'gemma3',
  };
}

/**
 * The config as canonical JSON: keys sorted, no whitespace. Two configs that normalise to the same
 * `ModelConfig` give the same string (fields config.json holds but the engine ignores do not count).
 */
export function canonicalConfigJson(cfg: ModelConfig): string {
  const entries = Object.entries(cfg).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return JSON.stringify(Object.fromEntries(entries));
}

function readModelType(c: Json): ModelConfig['modelType'] {
  const archs = optional(c, 'architectures', (o, k) => {
    const v = o[k];
    if (!Array.isArray(v) || !v.every((a) => typeof a === 'string'))
      throw wrongType(k, 'an array of strings', v);
    return v as string[];
  });
  const fromArch = archs?.map((a) => ARCHITECTURES[a]).find((t) => t !== undefined);
  const typed = optional(c, 'model_type', str);
  const raw =
    typed !== undefined && Object.hasOwn(MODEL_TYPE_ALIASES, typed) ? MODEL_TYPE_ALIASES[typed] : typed;
  if (raw === undefined && fromArch === undefined) {
    if (archs?.length) throw unsupportedArch(archs);
    throw new ModelFormatError('config.json is missing the field model_type.');
  }
  if (raw !== undefined && !(MODEL_TYPES as readonly string[]).includes(raw)) {
    throw new UnsupportedArchitectureError(
      `model_type '${raw}' is not supported: this engine runs ${MODEL_TYPES.join(', ')} (${Object.keys(ARCHITECTURES).join(', ')}).`,
    );
  }
  if (archs?.length && fromArch === undefined) throw unsupportedArch(archs);
  return (raw as ModelConfig['modelType'] | undefined) ?? (fromArch as ModelConfig['modelType']);
}

function unsupportedArch(archs: string[]): UnsupportedArchitectureError {
  return new UnsupportedArchitectureError(
    `architectures ${JSON.stringify(archs)} are not supported: expected one of ${Object.keys(ARCHITECTURES).join(', ')}.`,
  );
}

/**
 * rope_theta and the scaling, from `rope_scaling` (transformers v4) or `rope_parameters` (v5, which
 * also holds rope_theta). Types `default`, `linear` and `llama3` are read; every other is refused.
 */
function readRope(
  c: Json,
  modelType: ModelConfig['modelType'],
  rotaryDim: number,
  maxPositions: number,
): { theta: number; scaling?: RopeScaling } {
  let scaling: RopeScaling | undefined;
  let theta: number | undefined;
  for (const field of ['rope_scaling', 'rope_parameters'] as const) {
    const v = c[field];
    if (v === undefined || v === null) continue;
    if (typeof v !== 'object' || Array.isArray(v)) throw wrongType(field, 'an object', v);
    const o = v as Json;
    if (field === 'rope_parameters') theta = optional(o, 'rope_theta', f32In(ROPE_THETA));
    const read =
      modelType === 'phi3' && ['longrope', 'su'].includes(String(o.rope_type ?? o.type))
        ? readLongrope(c, o, field, rotaryDim, maxPositions)
        : readScaling(c, o, field);
    if (read) scaling = read;
  }
  return {
    theta: theta ?? optional(c, 'rope_theta', f32In(ROPE_THETA)) ?? 10000,
    ...(scaling ? { scaling } : {}),
  };
}

const ROPE_TYPES = ['default', 'linear', 'llama3'];

/** partial_rotary_factor (also in rope_parameters) as the rotated dims of a head; undefined = all. */
function readRotaryDim(c: Json, headDim: number): number | undefined {
  const params = c.rope_parameters;
  const fromParams =
    params && typeof params === 'object' && !Array.isArray(params)
      ? optional(params as Json, 'partial_rotary_factor', posNum)
      : undefined;
  const factor = fromParams ?? optional(c, 'partial_rotary_factor', posNum) ?? 1;
  const dim = Math.floor(headDim * factor);
  if (factor > 1 || dim % 2 !== 0 || dim === 0) {
    throw new ModelFormatError(
      `config.json field partial_rotary_factor ${factor} gives ${dim} rotated dims of ${headDim}: it must be an even number from 2 to head_dim.`,
    );
  }
  return dim === headDim ? undefined : dim;
}

/**
 * Phi-3's longrope: short_factor / long_factor [rotaryDim/2] and the attention factor
 * (rope_scaling.attention_factor, else sqrt(1 + ln(s) / ln(original)) for s = max_position_embeddings
 * / original_max_position_embeddings > 1, else 1), as transformers computes it.
 */
function readLongrope(c: Json, o: Json, field: string, rotaryDim: number, maxPositions: number): RopeScaling {
  const factors = (key: string): number[] => {
    const v = o[key];
    if (
      !Array.isArray(v) ||
      v.length !== rotaryDim / 2 ||
      !v.every((x) => typeof x === 'number' && x > 0 && Number.isFinite(Math.fround(x)))
    ) {
      throw new ModelFormatError(
        `config.json field ${field}.${key} must be ${rotaryDim / 2} positive numbers (half the rotated dims).`,
      );
    }
    return v as number[];
  };
  const original =
    optional(o, 'original_max_position_embeddings', posInt) ??
    optional(c, 'original_max_position_embeddings', posInt) ??
    maxPositions;
  const s = maxPositions / original;
  const attentionFactor =
    optional(o, 'attention_factor', posNum) ?? (s > 1 ? Math.sqrt(1 + Math.log(s) / Math.log(original)) : 1);
  return {
    type: 'longrope',
    shortFactor: factors('short_factor'),
    longFactor: factors('long_factor'),
    originalMaxPositions: original,
    attentionFactor,
  };
}

function readScaling(c: Json, o: Json, field: string): RopeScaling | undefined {
  const type = o.rope_type ?? o.type ?? 'default';
  if (typeof type !== 'string' || !ROPE_TYPES.includes(type)) {
    throw new UnsupportedArchitectureError(
      `${field} ${JSON.stringify(o)} is not supported: rope_type must be one of ${ROPE_TYPES.join(', ')}.`,
    );
  }
  const num = (key: string, fallback?: number): number => {
    const v = optional(o, key, posNum);
    if (v !== undefined) return v;
    if (fallback !== undefined) return fallback;
    throw new ModelFormatError(`config.json field ${field}.${key} is missing (rope_type '${type}').`);
  };
  if (type === 'default') return undefined;
  if (type === 'linear') return { type, factor: num('factor') };
  // Llama 3.1's defaults as transformers reads them; the original context may also sit at the top level.
  const original =
    optional(o, 'original_max_position_embeddings', posInt) ??
    optional(c, 'original_max_position_embeddings', posInt) ??
    8192;
  const scaling = {
    type: 'llama3' as const,
    factor: num('factor', 8),
    lowFreqFactor: num('low_freq_factor', 1),
    highFreqFactor: num('high_freq_factor', 4),
    originalMaxPositions: original,
  };
  if (scaling.highFreqFactor <= scaling.lowFreqFactor) {
    throw new ModelFormatError(
      `config.json field ${field}: high_freq_factor (${scaling.highFreqFactor}) must exceed low_freq_factor (${scaling.lowFreqFactor}).`,
    );
  }
  return scaling;
}

/**
 * The sliding window: Mistral's `sliding_window` on every layer; Gemma 2's (default 4096) on even
 * layers; Gemma 3's (default 4096) on five layers of six (`sliding_window_pattern`, default 6, or
 * `layer_types`, which must follow such a pattern). Llama and Phi-3 ignore the field (as llama.cpp
 * does); Qwen2/Qwen3's only applies with use_sliding_window, which is refused.
 */
function readSlidingWindow(
  c: Json,
  modelType: ModelConfig['modelType'],
  maxPositions: number,
  layers: number,
): { slidingWindow?: number; slidingWindowPattern?: number } {
  const window = optional(c, 'sliding_window', posInt);
  if (modelType === 'gemma2') return { slidingWindow: window ?? 4096, slidingWindowPattern: 2 };
  if (modelType === 'gemma3') {
    const pattern = gemma3Pattern(c, layers);
    return pattern === 1 ? {} : { slidingWindow: window ?? 4096, slidingWindowPattern: pattern };
  }
  if (window === undefined || window >= maxPositions) return {};
  // Qwen2/Qwen3 configs carry a sliding_window that only applies when use_sliding_window is true.
  if ((modelType === 'qwen2' || modelType === 'qwen3') && optional(c, 'use_sliding_window', bool) !== true)
    return {};
  if (modelType === 'llama' || modelType === 'phi3') return {}; // no window there (llama.cpp ignores it)
  if (modelType === 'mistral') return { slidingWindow: window };
  throw new UnsupportedArchitectureError(
    `sliding_window=${window} (< max_position_embeddings ${maxPositions}) is not supported for ${modelType}: only Mistral's and Gemma's windows are implemented.`,
  );
}

/** Gemma 3's local:global period n (layer l is local when l % n < n − 1; 1 = all global). */
function gemma3Pattern(c: Json, layers: number): number {
  const types = c.layer_types;
  const pattern = optional(c, 'sliding_window_pattern', posInt);
  if (!Array.isArray(types)) return pattern ?? 6;
  const local = types.map((t) => t === 'sliding_attention');
  const n = local.indexOf(false) + 1 || layers + 1; // the first global layer ends the first period
  const fits =
    types.length === layers &&
    types.every((t) => t === 'sliding_attention' || t === 'full_attention') &&
    local.every((l, i) => l === i % n < n - 1);
  if (!fits) {
    throw new UnsupportedArchitectureError(
      `layer_types ${JSON.stringify(types)} is not supported: sliding layers must repeat as n − 1 sliding then 1 full (Gemma 3's pattern).`,
    );
  }
  return n;
}

/** SiLU (SwiGLU) everywhere but Gemma, whose MLP is GeGLU with tanh GELU (gelu_pytorch_tanh). */
function checkActivation(c: Json, gemma: boolean): void {
  const act =
    optional(c, 'hidden_activation', str) ??
    optional(c, 'hidden_act', str) ??
    (gemma ? 'gelu_pytorch_tanh' : 'silu');
  const ok = gemma ? ['gelu_pytorch_tanh', 'gelu_tanh'] : ['silu', 'swish'];
  if (!ok.includes(act)) {
    throw new UnsupportedArchitectureError(
      `hidden_act '${act}' is not supported${gemma ? ' for Gemma' : ''}: only ${gemma ? "'gelu_pytorch_tanh' (GeGLU, tanh GELU)" : "'silu' (SwiGLU)"} is implemented.`,
    );
  }
}

/**
 * Gemma's block (ModelConfig.gemma), its attention scale query_pre_attn_scalar^−½ (kept when it is
 * not 1/√head_dim), the soft-capping of attention (Gemma 2) and final logits, and Gemma 3's local
 * RoPE base (rope_local_base_freq, default 10000).
 */
function readGemma(c: Json, modelType: ModelConfig['modelType'], headDim: number): Partial<ModelConfig> {
  const scalar = optional(c, 'query_pre_attn_scalar', posNum) ?? headDim;
  const attn = optional(c, 'attn_logit_softcapping', posNum);
  const final = optional(c, 'final_logit_softcapping', posNum);
  return {
    gemma: true,
    ...(scalar !== headDim ? { attentionScale: 1 / Math.sqrt(scalar) } : {}),
    ...(attn !== undefined ? { attnLogitSoftcap: attn } : {}),
    ...(final !== undefined ? { finalLogitSoftcap: final } : {}),
    ...(modelType === 'gemma3'
      ? { ropeLocalTheta: optional(c, 'rope_local_base_freq', f32In(ROPE_THETA)) ?? 10000 }
      : {}),
  };
}

function readEos(c: Json): number[] {
  const v = c.eos_token_id;
  if (v === undefined || v === null) return [];
  if (typeof v === 'number') return [tokenId(c, 'eos_token_id')];
  if (Array.isArray(v) && v.every((x) => Number.isInteger(x) && x >= 0)) return [...new Set(v as number[])];
  throw wrongType('eos_token_id', 'a token id or an array of token ids', v);
}

/** Most decoder layers a config may declare (the largest Llama-family models have about 128). */
export const MAX_LAYERS = 1024;

function layerCount(c: Json): number {
  const n = posInt(c, 'num_hidden_layers');
  if (n > MAX_LAYERS) {
    throw new ModelFormatError(
      `config.json field num_hidden_layers is ${n}, more than the ${MAX_LAYERS} layers this engine accepts.`,
    );
  }
  return n;
}

/** Reads `key` with `read` unless it is absent or null. */
function optional<T>(o: Json, key: string, read: (o: Json, key: string) => T): T | undefined {
  return o[key] === undefined || o[key] === null ? undefined : read(o, key);
}

function posInt(o: Json, key: string): number {
  const v = o[key];
  if (v === undefined || v === null) throw new ModelFormatError(`config.json is missing the field ${key}.`);
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v <= 0)
    throw wrongType(key, 'a positive integer', v);
  return v;
}

function tokenId(o: Json, key: string): number {
  const v = o[key];
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0)
    throw wrongType(key, 'a token id (integer >= 0)', v);
  return v;
}

/** A positive number, finite as f32 (every float field reaches the GPU as f32). */
function posNum(o: Json, key: string): number {
  const v = o[key];
  if (typeof v !== 'number' || !Number.isFinite(Math.fround(v)) || v <= 0)
    throw wrongType(key, 'a positive number, finite as f32', v);
  return v;
}

/**
 * Float fields reach the GPU as f32: each must be positive and finite *as f32* (1e308 is finite in
 * JSON but Infinity in f32) and within a sane range (bounds inclusive).
 */
const RMS_NORM_EPS = { min: 1e-12, max: 1 };
const ROPE_THETA = { min: 1, max: 1e12 };

function f32In(range: { min: number; max: number }) {
  return (o: Json, key: string): number => {
    const v = o[key];
    const want = `a number in [${range.min}, ${range.max}]`;
    if (typeof v !== 'number' || !Number.isFinite(Math.fround(v)))
      throw wrongType(key, `${want}, finite as f32`, v);
    if (!(v >= range.min && v <= range.max)) throw wrongType(key, want, v);
    return v;
  };
}

function str(o: Json, key: string): string {
  const v = o[key];
  if (typeof v !== 'string') throw wrongType(key, 'a string', v);
  return v;
}

function bool(o: Json, key: string): boolean {
  const v = o[key];
  if (typeof v !== 'boolean') throw wrongType(key, 'true or false', v);
  return v;
}

function wrongType(key: string, want: string, got: unknown): ModelFormatError {
  return new ModelFormatError(`config.json field ${key} must be ${want} (got ${JSON.stringify(got)}).`);
}
