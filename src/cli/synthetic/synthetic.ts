import { InvalidArgumentError, ModelFileMissingError, ModelFormatError } from '../../errors.ts';
import { parseConfig } from '../../model/config.ts';
import { expectedTensors } from '../../model/layout.ts';
import { INDEX_FILE, SINGLE_FILE } from '../../model/safetensors/safetensors.ts';
import {
  shardFileName,
  splitShards,
  type TensorSpec,
  tensorBytes,
  writeSafetensorsFile,
} from '../../model/safetensors/safetensors-writer.ts';
import type { DType, ModelConfig } from '../../model/types.ts';
import { mulberry32 } from '../../util/prng.ts';
import { PHI_SHAPES } from './phi-shapes.ts';
import { plantReply, replyChain } from './synthetic-reply.ts';
import {
  CHAT_TOKENIZERS,
  chatTokenizerDir,
  isSyntheticTokenizer,
  type SyntheticTokenizer,
  tokenIdOf,
} from './synthetic-tokenizers.ts';

export type SyntheticShape =
  | 'smollm2-135m'
  | 'qwen2.5-0.5b'
  | 'stories15m'
  | 'tiny-qwen2'
  | 'tiny-llama'
  | 'tiny-qwen2-151k'
  | 'tiny-llama3'
  | 'llama-3.2-1b'
  | 'qwen3-0.6b'
  | 'gemma-2-2b'
  | 'gemma-3-1b'
  | 'phi-3.5-mini'
  | 'phi-4-mini';

export interface ShapePreset {
  arch:
    | 'LlamaForCausalLM'
    | 'Qwen2ForCausalLM'
    | 'Qwen3ForCausalLM'
    | 'Gemma2ForCausalLM'
    | 'Gemma3ForCausalLM'
    | 'Phi3ForCausalLM';
  model_type: 'llama' | 'qwen2' | 'qwen3' | 'gemma2' | 'gemma3_text' | 'phi3';
  vocab_size: number;
  hidden_size: number;
  intermediate_size: number;
  num_hidden_layers: number;
  num_attention_heads: number;
  num_key_value_heads: number;
  head_dim: number;
  max_position_embeddings: number;
  rms_norm_eps: number;
  rope_theta: number;
  tie_word_embeddings: boolean;
  /** config.json's rope_scaling (default null: plain RoPE); Phi's longrope has factor arrays. */
  rope_scaling?: Record<string, number | string | readonly number[]>;
  /**
   * Further config.json fields (Gemma's windows, soft-caps, query_pre_attn_scalar; Phi's
   * original_max_position_embeddings, partial_rotary_factor).
   */
  extra?: Record<string, number | string>;
}

/** The small widths of the chat test shapes, whose size is their real vocabulary. */
const TINY_CHAT = {
  hidden_size: 32,
  intermediate_size: 64,
  num_hidden_layers: 2,
  num_attention_heads: 4,
  num_key_value_heads: 2,
  head_dim: 8,
  max_position_embeddings: 1024,
  tie_word_embeddings: false,
} as const;

/** Real model shapes (weights are random): what the engine must handle at full size, plus tiny test shapes. */
export const SYNTHETIC_SHAPES: Record<SyntheticShape, ShapePreset> = {
  'smollm2-135m': {
    arch: 'LlamaForCausalLM',
    model_type: 'llama',
    vocab_size: 49152,
    hidden_size: 576,
    intermediate_size: 1536,
    num_hidden_layers: 30,
    num_attention_heads: 9,
    num_key_value_heads: 3,
    head_dim: 64,
    max_position_embeddings: 2048,
    rms_norm_eps: 1e-5,
    rope_theta: 100000,
    tie_word_embeddings: true,
  },
  'qwen2.5-0.5b': {
    arch: 'Qwen2ForCausalLM',
    model_type: 'qwen2',
    vocab_size: 151936,
    hidden_size: 896,
    intermediate_size: 4864,
    num_hidden_layers: 24,
    num_attention_heads: 14,
    num_key_value_heads: 2,
    head_dim: 64,
    max_position_embeddings: 32768,
    rms_norm_eps: 1e-6,
    rope_theta: 1000000,
    tie_word_embeddings: true,
  },
  // llama2.c's stories15M (peer benchmark shape).
  stories15m: {
    arch: 'LlamaForCausalLM',
    model_type: 'llama',
    vocab_size: 32000,
    hidden_size: 288,
    intermediate_size: 768,
    num_hidden_layers: 6,
    num_attention_heads: 6,
    num_key_value_heads: 6,
    head_dim: 48,
    max_position_embeddings: 256,
    rms_norm_eps: 1e-5,
    rope_theta: 10000,
    tie_word_embeddings: true,
  },
  'tiny-qwen2': {
    arch: 'Qwen2ForCausalLM',
    model_type: 'qwen2',
    vocab_size: 512,
    hidden_size: 64,
    intermediate_size: 160,
    num_hidden_layers: 2,
    num_attention_heads: 4,
    num_key_value_heads: 2,
    head_dim: 16,
    max_position_embeddings: 512,
    rms_norm_eps: 1e-6,
    rope_theta: 1000000,
    tie_word_embeddings: false,
  },
  'tiny-llama': {
    arch: 'LlamaForCausalLM',
    model_type: 'llama',
    vocab_size: 512,
    hidden_size: 48,
    intermediate_size: 100,
    num_hidden_layers: 2,
    num_attention_heads: 6,
    num_key_value_heads: 2,
    head_dim: 8,
    max_position_embeddings: 512,
    rms_norm_eps: 1e-5,
    rope_theta: 10000,
    tie_word_embeddings: false,
  },
  // Qwen2 layout with the full Qwen vocabulary (for --tokenizer qwen): the 151,936 × 32 embedding
  // and head are most of its 39 MB (F32). Untied, so a reply can be planted (synthetic-reply.ts).
  'tiny-qwen2-151k': {
    ...TINY_CHAT,
    arch: 'Qwen2ForCausalLM',
    model_type: 'qwen2',
    vocab_size: 151936,
    rms_norm_eps: 1e-6,
    rope_theta: 1000000,
  },
  // Llama-3.2-1B(-Instruct): llama3 rope scaling, tied embeddings.
  'llama-3.2-1b': {
    arch: 'LlamaForCausalLM',
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
    rope_theta: 500000,
    tie_word_embeddings: true,
    rope_scaling: {
      rope_type: 'llama3',
      factor: 32,
      low_freq_factor: 1,
      high_freq_factor: 4,
      original_max_position_embeddings: 8192,
    },
  },
  // Qwen3-0.6B: per-head q/k norm, head_dim 128 (hidden / heads is 64), tied embeddings.
  'qwen3-0.6b': {
    arch: 'Qwen3ForCausalLM',
    model_type: 'qwen3',
    vocab_size: 151936,
    hidden_size: 1024,
    intermediate_size: 3072,
    num_hidden_layers: 28,
    num_attention_heads: 16,
    num_key_value_heads: 8,
    head_dim: 128,
    max_position_embeddings: 40960,
    rms_norm_eps: 1e-6,
    rope_theta: 1000000,
    tie_word_embeddings: true,
  },
  // gemma-2-2b(-it): GeGLU, (1 + w) pre/post norms, soft-caps 50 / 30, window 4096 on even layers.
  'gemma-2-2b': {
    arch: 'Gemma2ForCausalLM',
    model_type: 'gemma2',
    vocab_size: 256000,
    hidden_size: 2304,
    intermediate_size: 9216,
    num_hidden_layers: 26,
    num_attention_heads: 8,
    num_key_value_heads: 4,
    head_dim: 256,
    max_position_embeddings: 8192,
    rms_norm_eps: 1e-6,
    rope_theta: 10000,
    tie_word_embeddings: true,
    extra: {
      query_pre_attn_scalar: 256,
      sliding_window: 4096,
      attn_logit_softcapping: 50,
      final_logit_softcapping: 30,
    },
  },
  // gemma-3-1b(-it): q/k norms, window 512 on five layers of six (RoPE base 10000 there, 1e6 elsewhere).
  'gemma-3-1b': {
    arch: 'Gemma3ForCausalLM',
    model_type: 'gemma3_text',
    vocab_size: 262144,
    hidden_size: 1152,
    intermediate_size: 6912,
    num_hidden_layers: 26,
    num_attention_heads: 4,
    num_key_value_heads: 1,
    head_dim: 256,
    max_position_embeddings: 32768,
    rms_norm_eps: 1e-6,
    rope_theta: 1000000,
    tie_word_embeddings: true,
    extra: {
      query_pre_attn_scalar: 256,
      sliding_window: 512,
      sliding_window_pattern: 6,
      rope_local_base_freq: 10000,
    },
  },
  // Phi-3.5-mini and Phi-4-mini: longrope with their real factor arrays (sources in phi-shapes.ts).
  ...PHI_SHAPES,
  // Llama 3 layout with its 128,256-token vocabulary (for --tokenizer llama3).
  'tiny-llama3': {
    ...TINY_CHAT,
    arch: 'LlamaForCausalLM',
    model_type: 'llama',
    vocab_size: 128256,
    rms_norm_eps: 1e-5,
    rope_theta: 500000,
  },
};

export interface SyntheticModelOptions {
  shape: SyntheticShape;
  /** Output folder (created; existing model*.safetensors* files in it are replaced). */
  out: string;
  /** PRNG seed; the same seed gives the same f32 values whatever the dtype or sharding. Default 1. */
  seed?: number;
  dtype?: DType;
  /** Override num_hidden_layers (e.g. a 2-layer model with SmolLM2's widths). */
  layers?: number;
  /** Number of shard files; 1 (default) writes model.safetensors, more write an index too. */
  shards?: number;
  /** Folder to copy tokenizer.json and tokenizer_config.json from; default: the stories260K-hf asset. */
  tokenizerFrom?: string;
  /**
   * A real chat tokenizer from the npm dev dependencies (synthetic-tokenizers.ts) instead of
   * `tokenizerFrom`; also writes generation_config.json with the instruct models' stop tokens.
   */
  tokenizer?: SyntheticTokenizer;
  /** Plant this greedy answer, ended by the end-of-turn token (chat tokenizers, untied shapes). */
  reply?: string;
}

export interface SyntheticModelResult {
  config: ModelConfig;
  /** Files written, relative to `out`. */
  files: string[];
  /** Bytes of the safetensors files. */
  weightBytes: number;
}

/**
 * Writes a Hugging Face-format model folder (Node only) with the given shape and deterministic
 * random weights: projections and embeddings ~ N(0, 0.02), norm weights ~ 1 + N(0, 0.02), biases
 * ~ N(0, 0.02). Each tensor's values come from a PRNG seeded by (seed, tensor name), written
 * chunk by chunk. The tokenizer files are copied; bos/eos ids in config.json are taken from them.
 */
export async function writeSyntheticModel(opts: SyntheticModelOptions): Promise<SyntheticModelResult> {
  const preset = SYNTHETIC_SHAPES[opts.shape];
  if (!preset) {
    throw new InvalidArgumentError(
      `Unknown synthetic shape '${opts.shape}': expected ${Object.keys(SYNTHETIC_SHAPES).join(', ')}.`,
    );
  }
  const dtype = opts.dtype ?? 'F32';
  const seed = opts.seed ?? 1;
  const shards = opts.shards ?? 1;
  const layers = opts.layers ?? preset.num_hidden_layers;
  if (!Number.isInteger(layers) || layers < 1)
    throw new InvalidArgumentError(`layers must be >= 1 (got ${layers}).`);
  if (opts.tokenizer !== undefined && !isSyntheticTokenizer(opts.tokenizer))
    throw new InvalidArgumentError(
      `Unknown tokenizer '${opts.tokenizer}': expected stories, qwen or llama3.`,
    );
  const chatName = opts.tokenizer === 'stories' ? undefined : opts.tokenizer;
  const chat = chatName ? CHAT_TOKENIZERS[chatName] : undefined;
  if (opts.reply !== undefined && (!chat || preset.tie_word_embeddings)) {
    throw new InvalidArgumentError(
      `A reply can only be planted with a chat tokenizer (qwen, llama3) in an untied shape (tiny-*), not ${opts.shape} with ${opts.tokenizer ?? 'stories'}.`,
    );
  }
  const fs = await import('node:fs/promises');
  const tokDir = chatName
    ? await chatTokenizerDir(chatName)
    : (opts.tokenizerFrom ?? (await defaultTokenizerDir()));
  const tokenizerJson = await readTokenizerFile(fs, tokDir, 'tokenizer.json');
  const tokenizerConfig = await readTokenizerFile(fs, tokDir, 'tokenizer_config.json');

  const configJson = hfConfig(preset, layers, dtype, tokenizerJson, tokenizerConfig);
  const config = parseConfig(JSON.parse(configJson));
  // norm weights ~ 1 + N(0, 0.02) as multipliers: Gemma's w acts as 1 + w
  const normMean = config.gemma ? 0 : 1;
  const values = (name: string) =>
    gaussianStream(seed, name, name.endsWith('norm.weight') ? normMean : 0, 0.02);
  const chain =
    chat && opts.reply !== undefined
      ? await replyChain(
          tokenizerJson,
          tokenizerConfig,
          opts.reply,
          stopId(tokenizerJson, chat.endOfTurn),
          config.hiddenSize,
        )
      : null;
  const specs: TensorSpec[] = [...expectedTensors(config)].map(([name, shape]) => ({
    name,
    shape,
    dtype,
    values: chain ? plantReply(name, shape, values(name), chain) : values(name),
  }));

  await fs.mkdir(opts.out, { recursive: true });
  for (const f of await fs.readdir(opts.out)) {
    if (/^model.*\.safetensors(\.index\.json)?$/.test(f)) await fs.rm(`${opts.out}/${f}`);
  }
  const files: string[] = ['config.json', 'tokenizer.json', 'tokenizer_config.json'];
  await fs.writeFile(`${opts.out}/config.json`, configJson);
  await fs.writeFile(`${opts.out}/tokenizer.json`, tokenizerJson);
  await fs.writeFile(`${opts.out}/tokenizer_config.json`, tokenizerConfig);
  await fs.rm(`${opts.out}/generation_config.json`, { force: true });
  if (chat) {
    const gen = {
      bos_token_id: config.bosTokenId,
      eos_token_id: chat.stopTokens.map((t) => stopId(tokenizerJson, t)),
    };
    await fs.writeFile(`${opts.out}/generation_config.json`, `${JSON.stringify(gen, null, 2)}\n`);
    files.push('generation_config.json');
  }

  let weightBytes = 0;
  if (shards === 1) {
    weightBytes += await writeSafetensorsFile(`${opts.out}/${SINGLE_FILE}`, specs);
    files.push(SINGLE_FILE);
  } else {
    const groups = splitShards(specs, shards);
    const weightMap: Record<string, string> = {};
    for (const [i, group] of groups.entries()) {
      const name = shardFileName(i, groups.length);
      weightBytes += await writeSafetensorsFile(`${opts.out}/${name}`, group);
      for (const t of group) weightMap[t.name] = name;
      files.push(name);
    }
    const totalSize = specs.reduce((s, t) => s + tensorBytes(t), 0);
    const index = { metadata: { total_size: totalSize }, weight_map: sortKeys(weightMap) };
    await fs.writeFile(`${opts.out}/${INDEX_FILE}`, `${JSON.stringify(index, null, 2)}\n`);
    files.push(INDEX_FILE);
  }
  return { config, files, weightBytes };
}

/** A deterministic N(mean, std) sequence for one tensor, read in order chunk by chunk. */
function gaussianStream(seed: number, name: string, mean: number, std: number): TensorSpec['values'] {
  const rand = mulberry32(hashName(name, seed));
  let spare: number | null = null;
  let next = 0;
  return (start, count) => {
    if (start !== next) throw new RangeError(`${name}: values must be read in order`);
    next = start + count;
    const out = new Float32Array(count);
    for (let i = 0; i < count; i++) {
      if (spare !== null) {
        out[i] = mean + std * spare;
        spare = null;
        continue;
      }
      const u = 1 - rand(); // (0, 1]
      const v = rand();
      const r = Math.sqrt(-2 * Math.log(u));
      out[i] = mean + std * r * Math.cos(2 * Math.PI * v);
      spare = r * Math.sin(2 * Math.PI * v);
    }
    return out;
  };
}

/** FNV-1a over the name, mixed with the seed. */
function hashName(name: string, seed: number): number {
  let h = 0x811c9dc5 ^ Math.imul(seed >>> 0, 0x9e3779b1);
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** The config.json text a shape writes (bos/eos ids taken from the tokenizer files). */
export function hfConfig(
  p: ShapePreset,
  layers: number,
  dtype: DType,
  tokJson: string,
  tokCfg: string,
): string {
  const torchDtype = { F32: 'float32', F16: 'float16', BF16: 'bfloat16' }[dtype];
  const bos = specialTokenId(tokJson, tokCfg, 'bos_token');
  const eos = specialTokenId(tokJson, tokCfg, 'eos_token');
  const { arch, extra, ...rest } = p;
  const gemma = p.model_type === 'gemma2' || p.model_type === 'gemma3_text';
  const cfg: Record<string, unknown> = {
    architectures: [arch],
    ...rest,
    ...extra,
    num_hidden_layers: layers,
    hidden_act: gemma ? 'gelu_pytorch_tanh' : 'silu',
    rope_scaling: p.rope_scaling ?? null,
    initializer_range: 0.02,
    bos_token_id: bos,
    eos_token_id: eos,
    torch_dtype: torchDtype,
    use_cache: true,
  };
  if (p.model_type === 'llama') Object.assign(cfg, { attention_bias: false, mlp_bias: false });
  else if (gemma) Object.assign(cfg, { attention_bias: false, hidden_activation: 'gelu_pytorch_tanh' });
  else if (p.model_type === 'phi3') Object.assign(cfg, { attention_bias: false, mlp_bias: false });
  else Object.assign(cfg, { use_sliding_window: false, sliding_window: p.max_position_embeddings });
  if (p.model_type === 'qwen3') Object.assign(cfg, { attention_bias: false });
  return `${JSON.stringify(cfg, null, 2)}\n`;
}

/** The id of tokenizer_config's bos_token / eos_token, looked up in tokenizer.json; null if absent. */
function specialTokenId(tokJson: string, tokCfg: string, key: 'bos_token' | 'eos_token'): number | null {
  const cfg = JSON.parse(tokCfg) as Record<string, unknown>;
  const v = cfg[key];
  const content = typeof v === 'string' ? v : (v as { content?: unknown } | null)?.content;
  if (typeof content !== 'string') return null;
  return tokenIdOf(tokJson, content);
}

function stopId(tokJson: string, content: string): number {
  const id = tokenIdOf(tokJson, content);
  if (id === null) throw new ModelFormatError(`The tokenizer has no token ${content}.`);
  return id;
}

/**
 * $KVSHARE_ASSETS/stories260K-hf when that holds it (a bundle, such as the GPU check kit, has no
 * repository around it), else the repository's assets/stories260K-hf (its tokenizer files also ship in
 * the npm package).
 */
async function defaultTokenizerDir(): Promise<string> {
  const { fileURLToPath } = await import('node:url');
  const { existsSync } = await import('node:fs');
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
  if (env?.KVSHARE_ASSETS && existsSync(`${env.KVSHARE_ASSETS}/stories260K-hf`)) {
    return `${env.KVSHARE_ASSETS}/stories260K-hf`;
  }
  // From src/cli/synthetic/ or from the built dist/src/cli/synthetic/.
  const dirs = ['../../../assets/stories260K-hf', '../../../../assets/stories260K-hf'].map((rel) =>
    fileURLToPath(new URL(rel, import.meta.url)),
  );
  return dirs.find((d) => existsSync(d)) ?? dirs[0];
}

async function readTokenizerFile(
  fs: typeof import('node:fs/promises'),
  dir: string,
  name: string,
): Promise<string> {
  try {
    return await fs.readFile(`${dir}/${name}`, 'utf8');
  } catch (e) {
    throw new ModelFileMissingError(
      `Cannot copy the tokenizer: ${name} is missing from ${dir} (the repository and the npm package hold it in assets/stories260K-hf).`,
      {
        cause: e,
      },
    );
  }
}

function sortKeys(o: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
