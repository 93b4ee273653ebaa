import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ModelFormatError, UnsupportedArchitectureError } from '../../src/errors.ts';
import { canonicalConfigJson, parseConfig } from '../../src/model/config.ts';
import { layerRope, layerWindow } from '../../src/model/layer-attention.ts';
import { storiesDir } from '../helpers/models.ts';

const stories = (): Record<string, unknown> =>
  JSON.parse(readFileSync(`${storiesDir()}/config.json`, 'utf8'));

/** SmolLM2-135M's config.json (no head_dim; a llama). */
const smollm2 = {
  architectures: ['LlamaForCausalLM'],
  model_type: 'llama',
  vocab_size: 49152,
  hidden_size: 576,
  intermediate_size: 1536,
  num_hidden_layers: 30,
  num_attention_heads: 9,
  num_key_value_heads: 3,
  max_position_embeddings: 8192,
  rms_norm_eps: 1e-5,
  rope_theta: 100000,
  rope_scaling: null,
  hidden_act: 'silu',
  attention_bias: false,
  mlp_bias: false,
  tie_word_embeddings: true,
  bos_token_id: 0,
  eos_token_id: 0,
  pretraining_tp: 1,
};

/** TinyLlama-1.1B-Chat's config.json. */
const tinyllama = {
  architectures: ['LlamaForCausalLM'],
  model_type: 'llama',
  vocab_size: 32000,
  hidden_size: 2048,
  intermediate_size: 5632,
  num_hidden_layers: 22,
  num_attention_heads: 32,
  num_key_value_heads: 4,
  max_position_embeddings: 2048,
  rms_norm_eps: 1e-5,
  rope_scaling: null,
  rope_theta: 10000.0,
  hidden_act: 'silu',
  tie_word_embeddings: false,
  bos_token_id: 1,
  eos_token_id: 2,
};

/** Llama-3.2-1B-Instruct's config.json. */
const llama32 = {
  architectures: ['LlamaForCausalLM'],
  model_type: 'llama',
  vocab_size: 128256,
  hidden_size: 2048,
  intermediate_size: 8192,
  num_hidden_layers: 16,
  num_attention_heads: 32,
  num_key_value_heads: 8,
  head_dim: 64,
  max_position_embeddings: 131072,
  rms_norm_eps: 1e-5,
  rope_theta: 500000.0,
  rope_scaling: {
    factor: 32.0,
    high_freq_factor: 4.0,
    low_freq_factor: 1.0,
    original_max_position_embeddings: 8192,
    rope_type: 'llama3',
  },
  hidden_act: 'silu',
  attention_bias: false,
  mlp_bias: false,
  tie_word_embeddings: true,
  bos_token_id: 128000,
  eos_token_id: [128001, 128008, 128009],
};

/** Qwen3-0.6B's config.json. */
const qwen3 = {
  architectures: ['Qwen3ForCausalLM'],
  model_type: 'qwen3',
  vocab_size: 151936,
  hidden_size: 1024,
  intermediate_size: 3072,
  num_hidden_layers: 28,
  num_attention_heads: 16,
  num_key_value_heads: 8,
  head_dim: 128,
  max_position_embeddings: 40960,
  max_window_layers: 28,
  rms_norm_eps: 1e-6,
  rope_theta: 1000000,
  rope_scaling: null,
  hidden_act: 'silu',
  attention_bias: false,
  attention_dropout: 0.0,
  use_sliding_window: false,
  sliding_window: null,
  tie_word_embeddings: true,
  bos_token_id: 151643,
  eos_token_id: 151645,
};

/** Phi-4-mini-instruct's config.json (factors shortened to their count). */
const phi4mini = {
  architectures: ['Phi3ForCausalLM'],
  model_type: 'phi3',
  vocab_size: 200064,
  hidden_size: 3072,
  intermediate_size: 8192,
  num_hidden_layers: 32,
  num_attention_heads: 24,
  num_key_value_heads: 8,
  max_position_embeddings: 131072,
  original_max_position_embeddings: 4096,
  partial_rotary_factor: 0.75,
  rms_norm_eps: 1e-5,
  rope_theta: 10000.0,
  rope_scaling: {
    type: 'longrope',
    long_factor: Array.from({ length: 48 }, (_, i) => 1 + i),
    short_factor: Array.from({ length: 48 }, () => 1),
  },
  sliding_window: 262144,
  hidden_act: 'silu',
  tie_word_embeddings: true,
  bos_token_id: 199999,
  eos_token_id: 199999,
};

/** Qwen2.5-0.5B-Instruct's config.json. */
const qwen25 = {
  architectures: ['Qwen2ForCausalLM'],
  model_type: 'qwen2',
  vocab_size: 151936,
  hidden_size: 896,
  intermediate_size: 4864,
  num_hidden_layers: 24,
  num_attention_heads: 14,
  num_key_value_heads: 2,
  max_position_embeddings: 32768,
  max_window_layers: 21,
  rms_norm_eps: 1e-6,
  rope_theta: 1000000.0,
  sliding_window: 32768,
  use_sliding_window: false,
  hidden_act: 'silu',
  tie_word_embeddings: true,
  bos_token_id: 151643,
  eos_token_id: 151645,
};

/** Mistral-7B-v0.3's config.json (no sliding window). */
const mistral = {
  architectures: ['MistralForCausalLM'],
  model_type: 'mistral',
  vocab_size: 32768,
  hidden_size: 4096,
  intermediate_size: 14336,
  num_hidden_layers: 32,
  num_attention_heads: 32,
  num_key_value_heads: 8,
  head_dim: 128,
  max_position_embeddings: 32768,
  rms_norm_eps: 1e-5,
  rope_theta: 1000000.0,
  sliding_window: null,
  hidden_act: 'silu',
  tie_word_embeddings: false,
  bos_token_id: 1,
  eos_token_id: 2,
};

// google/gemma-2-2b-it's and google/gemma-3-1b-it's config.json (the fields the engine reads).
const gemma2_2b = {
  architectures: ['Gemma2ForCausalLM'],
  model_type: 'gemma2',
  attention_bias: false,
  attn_logit_softcapping: 50.0,
  bos_token_id: 2,
  eos_token_id: [1, 107],
  final_logit_softcapping: 30.0,
  head_dim: 256,
  hidden_act: 'gelu_pytorch_tanh',
  hidden_activation: 'gelu_pytorch_tanh',
  hidden_size: 2304,
  intermediate_size: 9216,
  max_position_embeddings: 8192,
  num_attention_heads: 8,
  num_hidden_layers: 26,
  num_key_value_heads: 4,
  query_pre_attn_scalar: 256,
  rms_norm_eps: 1e-6,
  rope_theta: 10000.0,
  sliding_window: 4096,
  vocab_size: 256000,
};
const gemma3_1b = {
  architectures: ['Gemma3ForCausalLM'],
  model_type: 'gemma3_text',
  attention_bias: false,
  attn_logit_softcapping: null,
  bos_token_id: 2,
  eos_token_id: [1, 106],
  final_logit_softcapping: null,
  head_dim: 256,
  hidden_activation: 'gelu_pytorch_tanh',
  hidden_size: 1152,
  intermediate_size: 6912,
  max_position_embeddings: 32768,
  num_attention_heads: 4,
  num_hidden_layers: 26,
  num_key_value_heads: 1,
  query_pre_attn_scalar: 256,
  rms_norm_eps: 1e-6,
  rope_local_base_freq: 10000,
  rope_scaling: null,
  rope_theta: 1000000,
  sliding_window: 512,
  sliding_window_pattern: 6,
  vocab_size: 262144,
};

describe('parseConfig', () => {
  it("reads Gemma 2's block, soft-caps and alternating sliding window", () => {
    const c = parseConfig(gemma2_2b);
    expect(c).toMatchObject({
      modelType: 'gemma2',
      gemma: true,
      headDim: 256,
      tieWordEmbeddings: true,
      attnLogitSoftcap: 50,
      finalLogitSoftcap: 30,
      slidingWindow: 4096,
      slidingWindowPattern: 2,
    });
    expect(c.attentionScale).toBeUndefined(); // query_pre_attn_scalar = head_dim: the plain 1/sqrt(hd)
    expect(c.qkNorm).toBeUndefined();
    expect([0, 1, 2, 25].map((l) => layerWindow(c, l))).toEqual([4096, 0, 4096, 0]);
    expect(parseConfig({ ...gemma2_2b, query_pre_attn_scalar: 144 }).attentionScale).toBeCloseTo(1 / 12, 12);
  });

  it('reads Gemma 3 text: q/k norms, five local layers of six with their own unscaled RoPE base', () => {
    const c = parseConfig(gemma3_1b);
    expect(c).toMatchObject({
      modelType: 'gemma3',
      gemma: true,
      qkNorm: true,
      slidingWindow: 512,
      ropeLocalTheta: 10000,
    });
    expect(c.attnLogitSoftcap).toBeUndefined();
    expect(c.finalLogitSoftcap).toBeUndefined();
    expect(Array.from({ length: 12 }, (_, l) => layerWindow(c, l))).toEqual([
      512, 512, 512, 512, 512, 0, 512, 512, 512, 512, 512, 0,
    ]);
    // gemma-3-4b: linear x8 on the global layers only
    const c4 = parseConfig({ ...gemma3_1b, rope_scaling: { rope_type: 'linear', factor: 8 } });
    expect(layerRope(c4, 5)).toEqual({ theta: 1000000, scaling: { type: 'linear', factor: 8 } });
    expect(layerRope(c4, 4)).toEqual({ theta: 10000 });
    // layer_types (transformers >= 4.53) in the same pattern read the same
    const types = Array.from({ length: 26 }, (_, l) => (l % 6 < 5 ? 'sliding_attention' : 'full_attention'));
    expect(parseConfig({ ...gemma3_1b, sliding_window_pattern: undefined, layer_types: types })).toEqual(c);
  });

  it("reads Mistral's sliding window on every layer", () => {
    const c = parseConfig({ ...mistral, sliding_window: 4096 });
    expect(c.slidingWindow).toBe(4096);
    expect(c.slidingWindowPattern).toBeUndefined();
    expect([0, 31].map((l) => layerWindow(c, l))).toEqual([4096, 4096]);
    // a window as long as the context changes nothing
    expect(parseConfig({ ...mistral, sliding_window: 32768 }).slidingWindow).toBeUndefined();
  });

  it('reads the stories260K config as SOURCES.md describes it', () => {
    expect(parseConfig(stories())).toEqual({
      modelType: 'llama',
      vocabSize: 512,
      hiddenSize: 64,
      intermediateSize: 172,
      numLayers: 5,
      numHeads: 8,
      numKvHeads: 4,
      headDim: 8,
      maxPositions: 512,
      rmsNormEps: 1e-5,
      ropeTheta: 10000,
      tieWordEmbeddings: true,
      attentionBias: false,
      bosTokenId: 1,
      eosTokenIds: [2],
    });
  });

  it('reads SmolLM2 and TinyLlama as llama, deriving head_dim', () => {
    const s = parseConfig(smollm2);
    expect(s).toMatchObject({ modelType: 'llama', headDim: 64, numKvHeads: 3, ropeTheta: 100000 });
    expect(s).toMatchObject({
      tieWordEmbeddings: true,
      attentionBias: false,
      bosTokenId: 0,
      eosTokenIds: [0],
    });
    const t = parseConfig(tinyllama);
    expect(t).toMatchObject({
      modelType: 'llama',
      headDim: 64,
      numHeads: 32,
      numKvHeads: 4,
      tieWordEmbeddings: false,
    });
  });

  it('reads Qwen2 with q/k/v biases and an inactive sliding window', () => {
    const q = parseConfig(qwen25);
    expect(q).toMatchObject({
      modelType: 'qwen2',
      attentionBias: true,
      headDim: 64,
      ropeTheta: 1e6,
      rmsNormEps: 1e-6,
    });
    expect(q.eosTokenIds).toEqual([151645]);
  });

  it('reads Mistral without a sliding window', () => {
    expect(parseConfig(mistral)).toMatchObject({ modelType: 'mistral', headDim: 128, numKvHeads: 8 });
  });

  it('applies defaults for optional fields', () => {
    const c = { ...tinyllama } as Record<string, unknown>;
    for (const k of [
      'num_key_value_heads',
      'rope_theta',
      'rms_norm_eps',
      'tie_word_embeddings',
      'hidden_act',
    ]) {
      delete c[k];
    }
    delete c.eos_token_id;
    delete c.bos_token_id;
    expect(parseConfig(c)).toMatchObject({
      numKvHeads: 32,
      ropeTheta: 10000,
      rmsNormEps: 1e-6,
      tieWordEmbeddings: false,
      bosTokenId: null,
      eosTokenIds: [],
    });
  });

  it('accepts eos_token_id as an array, and plain rope written the transformers v5 way', () => {
    expect(parseConfig({ ...tinyllama, eos_token_id: [2, 32000, 2] }).eosTokenIds).toEqual([2, 32000]);
    expect(parseConfig({ ...tinyllama, rope_scaling: { rope_type: 'default' } }).ropeTheta).toBe(10000);
    const v5 = {
      ...tinyllama,
      rope_theta: undefined,
      rope_parameters: { rope_type: 'default', rope_theta: 5e5 },
    };
    expect(parseConfig(v5).ropeTheta).toBe(5e5);
  });

  it("reads Llama 3.2's llama3 rope scaling, with transformers' defaults for absent factors", () => {
    const c = parseConfig(llama32);
    expect(c.ropeScaling).toEqual({
      type: 'llama3',
      factor: 32,
      lowFreqFactor: 1,
      highFreqFactor: 4,
      originalMaxPositions: 8192,
    });
    expect(c.ropeTheta).toBe(500000);
    const v5 = { ...llama32, rope_scaling: undefined, rope_theta: undefined };
    const params = { rope_type: 'llama3', rope_theta: 5e5, factor: 8 };
    expect(parseConfig({ ...v5, rope_parameters: params }).ropeScaling).toEqual({
      type: 'llama3',
      factor: 8,
      lowFreqFactor: 1,
      highFreqFactor: 4,
      originalMaxPositions: 8192,
    });
  });

  it('reads linear rope scaling; plain configs have no ropeScaling key (their canonical JSON is unchanged)', () => {
    const c = parseConfig({ ...tinyllama, rope_scaling: { type: 'linear', factor: 2 } });
    expect(c.ropeScaling).toEqual({ type: 'linear', factor: 2 });
    expect('ropeScaling' in parseConfig(tinyllama)).toBe(false);
    expect('qkNorm' in parseConfig(tinyllama)).toBe(false);
    expect(canonicalConfigJson(parseConfig(tinyllama))).not.toMatch(/rope_?[sS]caling|qkNorm/);
  });

  it('refuses a linear scaling without a factor and llama3 factors in the wrong order (ModelFormatError)', () => {
    expect(() => parseConfig({ ...tinyllama, rope_scaling: { type: 'linear' } })).toThrow(ModelFormatError);
    const bad = { ...llama32, rope_scaling: { ...llama32.rope_scaling, high_freq_factor: 0.5 } };
    expect(() => parseConfig(bad)).toThrow(/high_freq_factor/);
  });

  it('reads Qwen3-0.6B: per-head q/k norm, no biases, head_dim apart from hidden / heads', () => {
    const c = parseConfig(qwen3);
    expect(c).toMatchObject({ modelType: 'qwen3', qkNorm: true, attentionBias: false, headDim: 128 });
    expect(c.hiddenSize / c.numHeads).toBe(64);
    expect(c.ropeScaling).toBeUndefined();
  });

  it("reads Phi-4-mini: longrope factors for 3/4 of the head, transformers' attention factor", () => {
    const c = parseConfig(phi4mini);
    expect(c).toMatchObject({ modelType: 'phi3', headDim: 128, rotaryDim: 96, tieWordEmbeddings: true });
    if (c.ropeScaling?.type !== 'longrope') throw new Error('expected longrope');
    expect(c.ropeScaling.shortFactor).toHaveLength(48);
    expect(c.ropeScaling.originalMaxPositions).toBe(4096);
    // sqrt(1 + ln(131072 / 4096) / ln(4096))
    expect(c.ropeScaling.attentionFactor).toBeCloseTo(Math.sqrt(1 + Math.log(32) / Math.log(4096)), 12);
    const given = { ...phi4mini, rope_scaling: { ...phi4mini.rope_scaling, attention_factor: 1.5 } };
    expect(parseConfig(given).ropeScaling).toMatchObject({ attentionFactor: 1.5 });
  });

  it('refuses longrope factors of the wrong length and an odd rotary width (ModelFormatError)', () => {
    const short = { ...phi4mini, rope_scaling: { ...phi4mini.rope_scaling, short_factor: [1, 2] } };
    expect(() => parseConfig(short)).toThrow(ModelFormatError);
    expect(() => parseConfig(short)).toThrow(/short_factor must be 48 positive numbers/);
    expect(() => parseConfig({ ...phi4mini, partial_rotary_factor: 0.2 })).toThrow(/partial_rotary_factor/);
  });

  it('derives model_type from architectures when it is absent', () => {
    const c = { ...qwen25 } as Record<string, unknown>;
    delete c.model_type;
    expect(parseConfig(c).modelType).toBe('qwen2');
  });

  it.each([
    ['rope_scaling dynamic', { ...tinyllama, rope_scaling: { type: 'dynamic', factor: 2 } }, /rope_scaling/],
    ['rope_scaling longrope', { ...tinyllama, rope_scaling: { type: 'longrope' } }, /longrope/],
    ['qwen3 attention_bias', { ...qwen3, attention_bias: true }, /qwen3.*o_proj/],
    ['longrope off phi3', { ...tinyllama, rope_scaling: { type: 'longrope', short_factor: [] } }, /longrope/],
    [
      'partial rotary with llama3 scaling',
      { ...llama32, partial_rotary_factor: 0.5 },
      /partial rotary \(32 of 64 dims\) with rope scaling 'llama3'/,
    ],
    [
      'gemma2 with silu',
      { ...tinyllama, model_type: 'gemma2', architectures: ['Gemma2ForCausalLM'] },
      /hidden_act 'silu' is not supported for Gemma/,
    ],
    [
      'gemma3 layer_types out of pattern',
      { ...gemma3_1b, layer_types: ['full_attention', ...Array(25).fill('sliding_attention')] },
      /layer_types/,
    ],
    [
      'rope_parameters yarn',
      { ...tinyllama, rope_parameters: { rope_type: 'yarn', factor: 4 } },
      /rope_parameters/,
    ],
    [
      'qwen2 sliding window on',
      { ...qwen25, use_sliding_window: true, sliding_window: 4096 },
      /sliding_window/,
    ],
    [
      'model_type gpt2',
      { ...tinyllama, model_type: 'gpt2', architectures: ['GPT2LMHeadModel'] },
      /model_type 'gpt2'/,
    ],
    [
      'other architectures',
      { ...tinyllama, architectures: ['LlamaForSequenceClassification'] },
      /architectures/,
    ],
    ['gelu', { ...tinyllama, hidden_act: 'gelu' }, /hidden_act 'gelu'/],
    ['heads vs kv heads', { ...smollm2, num_key_value_heads: 2 }, /num_key_value_heads \(2\)/],
    ['mlp_bias', { ...smollm2, mlp_bias: true }, /mlp_bias/],
    ['llama attention_bias', { ...smollm2, attention_bias: true }, /o_proj/],
  ])('rejects %s with UnsupportedArchitectureError', (_, cfg, message) => {
    expect(() => parseConfig(cfg)).toThrow(UnsupportedArchitectureError);
    expect(() => parseConfig(cfg)).toThrow(message);
  });

  it('accepts a Mistral sliding window that covers every position', () => {
    expect(parseConfig({ ...mistral, sliding_window: 32768 }).modelType).toBe('mistral');
  });

  it.each([
    ['not an object', [1, 2], /JSON object/],
    ['missing hidden_size', { ...tinyllama, hidden_size: undefined }, /hidden_size/],
    ['missing model_type', { ...tinyllama, model_type: undefined, architectures: undefined }, /model_type/],
    ['string vocab_size', { ...tinyllama, vocab_size: '32000' }, /vocab_size/],
    ['fractional layers', { ...tinyllama, num_hidden_layers: 2.5 }, /num_hidden_layers/],
    ['negative eps', { ...tinyllama, rms_norm_eps: -1 }, /rms_norm_eps/],
    ['tie as string', { ...tinyllama, tie_word_embeddings: 'yes' }, /tie_word_embeddings/],
    ['eos as string', { ...tinyllama, eos_token_id: '</s>' }, /eos_token_id/],
    ['architectures as string', { ...tinyllama, architectures: 'LlamaForCausalLM' }, /architectures/],
    [
      'missing max positions',
      { ...tinyllama, max_position_embeddings: undefined },
      /max_position_embeddings/,
    ],
  ])('rejects a malformed config (%s) with ModelFormatError naming the field', (_, cfg, message) => {
    expect(() => parseConfig(cfg)).toThrow(ModelFormatError);
    expect(() => parseConfig(cfg)).toThrow(message);
  });
});

describe('canonicalConfigJson', () => {
  it('sorts keys and ignores fields the engine does not use', () => {
    const a = canonicalConfigJson(parseConfig(stories()));
    const b = canonicalConfigJson(parseConfig({ ...stories(), initializer_range: 0.5, use_cache: false }));
    expect(a).toBe(b);
    const keys = Object.keys(JSON.parse(a));
    expect(keys).toEqual([...keys].sort());
    expect(canonicalConfigJson(parseConfig({ ...stories(), rope_theta: 20000 }))).not.toBe(a);
  });
});
