// Small random-weight models of each supported architecture, written as a Hugging Face folder
// (config.json + model.safetensors + stories260K's tokenizer) and as GGUF files like llama.cpp's
// converter writes them (F32 and a quantized type), with stories260K's vocabulary (512 tokens).
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseConfig } from '../../src/model/config.ts';
import type { GgmlName } from '../../src/model/gguf/gguf-quantize.ts';
import { ggufTokenizerMetadata } from '../../src/model/gguf/gguf-vocab.ts';
import { ggufFromModel, kvsFromJson } from '../../src/model/gguf/gguf-writer.ts';
import { writeSafetensorsFile } from '../../src/model/safetensors/safetensors-writer.ts';
import { f32Values, type ModelConfig } from '../../src/model/types.ts';
import { randomTensors } from './gguf-writer-models.ts';
import { storiesDir } from './models.ts';

const BASE = {
  vocab_size: 512,
  hidden_size: 256,
  intermediate_size: 512,
  num_hidden_layers: 2,
  num_attention_heads: 4,
  num_key_value_heads: 2,
  max_position_embeddings: 1024,
  rms_norm_eps: 1e-5,
  hidden_act: 'silu',
  bos_token_id: 1,
  eos_token_id: 2,
};

/** config.json of each test architecture (widths multiples of 32, for Q8_0 / Q4_0 rows). */
export const ARCH_CONFIGS = {
  llama: { ...BASE, architectures: ['LlamaForCausalLM'], model_type: 'llama', rope_theta: 10000 },
  // Llama 3.x: llama3 rope scaling with an original context short enough that the test's positions
  // reach the scaled and blended frequencies.
  llama3: {
    ...BASE,
    architectures: ['LlamaForCausalLM'],
    model_type: 'llama',
    head_dim: 64,
    rope_theta: 500000,
    rope_scaling: {
      rope_type: 'llama3',
      factor: 32,
      low_freq_factor: 1,
      high_freq_factor: 4,
      original_max_position_embeddings: 64,
    },
    tie_word_embeddings: true,
  },
  'llama-linear': {
    ...BASE,
    architectures: ['LlamaForCausalLM'],
    model_type: 'llama',
    rope_theta: 10000,
    rope_scaling: { type: 'linear', factor: 4 },
  },
  qwen2: { ...BASE, architectures: ['Qwen2ForCausalLM'], model_type: 'qwen2', rope_theta: 1000000 },
  // Qwen3: head_dim 96 apart from hidden / heads (64), per-head q/k norm, tied embeddings.
  qwen3: {
    ...BASE,
    architectures: ['Qwen3ForCausalLM'],
    model_type: 'qwen3',
    head_dim: 96,
    rope_theta: 1000000,
    attention_bias: false,
    tie_word_embeddings: true,
  },
  // Phi-3 / Phi-4-mini: fused qkv_proj and gate_up_proj, partial rotary (48 of 64 dims), longrope
  // with an original context of 64, so contexts of 256 take the long factors and an attention
  // factor sqrt(1 + ln 16 / ln 64).
  phi3: {
    ...BASE,
    architectures: ['Phi3ForCausalLM'],
    model_type: 'phi3',
    rope_theta: 10000,
    partial_rotary_factor: 0.75,
    original_max_position_embeddings: 64,
    rope_scaling: {
      type: 'longrope',
      short_factor: Array.from({ length: 24 }, (_, i) => 1 + i / 48),
      long_factor: Array.from({ length: 24 }, (_, i) => 1 + (7 * i) / 23),
    },
    sliding_window: null,
  },
  // Mistral with a sliding window of 48 on every layer (the judged text is 160 tokens). llama.cpp
  // converts Mistral as llama and ignores the window, so its GGUF files have none.
  mistral: {
    ...BASE,
    architectures: ['MistralForCausalLM'],
    model_type: 'mistral',
    rope_theta: 1000000,
    sliding_window: 48,
  },
  // Gemma 2: GeGLU, embeddings × √D, (1 + w) norms around attention and MLP, a window of 40 on
  // layer 0 (layer 1 global), soft-caps small enough to bend these random scores and logits.
  gemma2: {
    ...BASE,
    architectures: ['Gemma2ForCausalLM'],
    model_type: 'gemma2',
    hidden_act: 'gelu_pytorch_tanh',
    hidden_activation: 'gelu_pytorch_tanh',
    head_dim: 64,
    query_pre_attn_scalar: 64,
    rope_theta: 10000,
    sliding_window: 40,
    attn_logit_softcapping: 1.0,
    final_logit_softcapping: 2.0,
    tie_word_embeddings: true,
  },
  // Gemma 3 text: q/k norms, local layers (window 40, RoPE base 10000) and global layers (base 1e6,
  // linear ×4); a pattern of 2 (llama.cpp reads sliding_window_pattern) so 2 layers hold both kinds.
  gemma3: {
    ...BASE,
    architectures: ['Gemma3ForCausalLM'],
    model_type: 'gemma3_text',
    hidden_activation: 'gelu_pytorch_tanh',
    head_dim: 64,
    query_pre_attn_scalar: 64,
    rope_theta: 1000000,
    rope_local_base_freq: 10000,
    rope_scaling: { rope_type: 'linear', factor: 4 },
    sliding_window: 40,
    sliding_window_pattern: 2,
    tie_word_embeddings: true,
  },
} as const;

export type ArchName = keyof typeof ARCH_CONFIGS;
export const ARCH_NAMES = Object.keys(ARCH_CONFIGS) as ArchName[];

export interface ArchModel {
  config: ModelConfig;
  /** The Hugging Face folder (config.json, model.safetensors, tokenizer files). */
  folder: string;
  /** GGUF file per type written. */
  gguf: Partial<Record<GgmlName, string>>;
}

/**
 * Writes model `name` (random weights from `seed`: projections ~ U(−0.1, 0.1), norms ~ 1 ± 0.05) under
 * `dir`/`name`: the folder and one GGUF per type in `types`.
 */
export async function writeArchModel(
  name: ArchName,
  dir: string,
  types: GgmlName[],
  seed = 11,
): Promise<ArchModel> {
  const json = ARCH_CONFIGS[name];
  const config = parseConfig(json);
  const tensors = randomTensors(config, seed);
  const folder = join(dir, name);
  mkdirSync(folder, { recursive: true });
  writeFileSync(join(folder, 'config.json'), JSON.stringify(json));
  for (const f of ['tokenizer.json', 'tokenizer_config.json'])
    copyFileSync(join(storiesDir(), f), join(folder, f));
  await writeSafetensorsFile(
    join(folder, 'model.safetensors'),
    [...tensors.values()].map((t) => ({
      name: t.name,
      shape: t.shape,
      dtype: 'F32' as const,
      values: (s: number, n: number) => f32Values(t).subarray(s, s + n),
    })),
  );
  const tok = (f: string) => JSON.parse(readFileSync(join(storiesDir(), f), 'utf8'));
  const tokenizerKVs = kvsFromJson(
    ggufTokenizerMetadata(tok('tokenizer.json'), tok('tokenizer_config.json')),
  );
  const gguf: Partial<Record<GgmlName, string>> = {};
  for (const type of types) {
    gguf[type] = join(dir, `${name}-${type}.gguf`);
    writeFileSync(gguf[type], ggufFromModel(config, tensors, { type, tokenizerKVs }));
  }
  return { config, folder, gguf };
}
