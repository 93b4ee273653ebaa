// A GGUF (v3) writer: header, metadata of every value type, tensor infos, alignment and data, plus
// `ggufFromModel`, which converts loaded f32 tensors like llama.cpp's convert_hf_to_gguf.py does
// (kvshare convert, src/model/gguf/gguf-convert.ts; tests build their GGUF files with it too).
import { UnsupportedArchitectureError } from '../../errors.ts';
import { LM_HEAD } from '../layout.ts';
import { ropeInvFreqs } from '../rope-freqs.ts';
import { f32Values, type HostTensor, type ModelConfig } from '../types.ts';
import { GGML_TYPE_IDS, type GgmlName, quantizeGgml } from './gguf-quantize.ts';

/** GGUF metadata value types (gguf.md). */
export const GGUF_VALUE = {
  UINT8: 0,
  INT8: 1,
  UINT16: 2,
  INT16: 3,
  UINT32: 4,
  INT32: 5,
  FLOAT32: 6,
  BOOL: 7,
  STRING: 8,
  ARRAY: 9,
  UINT64: 10,
  INT64: 11,
  FLOAT64: 12,
} as const;
type ScalarType = Exclude<keyof typeof GGUF_VALUE, 'ARRAY'>;

export type GgufKV =
  | { key: string; type: ScalarType; value: number | bigint | boolean | string }
  | { key: string; type: 'ARRAY'; of: ScalarType; value: (number | bigint | boolean | string)[] };

export interface GgufTensorSpec {
  name: string;
  /** Row-major shape (outermost first); written reversed as GGUF's ne[]. */
  shape: number[];
  /** GGML type id (see GGML_TYPE_IDS). */
  type: number;
  data: Uint8Array;
}

class Bytes {
  private parts: Uint8Array[] = [];
  length = 0;
  push(b: Uint8Array): void {
    this.parts.push(b);
    this.length += b.byteLength;
  }
  num(type: ScalarType, v: number | bigint | boolean): void {
    const sizes: Record<string, number> = {
      UINT8: 1,
      INT8: 1,
      BOOL: 1,
      UINT16: 2,
      INT16: 2,
      UINT32: 4,
      INT32: 4,
      FLOAT32: 4,
    };
    const b = new Uint8Array(sizes[type] ?? 8);
    const dv = new DataView(b.buffer);
    const n = Number(v);
    if (type === 'UINT8' || type === 'BOOL') dv.setUint8(0, n);
    else if (type === 'INT8') dv.setInt8(0, n);
    else if (type === 'UINT16') dv.setUint16(0, n, true);
    else if (type === 'INT16') dv.setInt16(0, n, true);
    else if (type === 'UINT32') dv.setUint32(0, n, true);
    else if (type === 'INT32') dv.setInt32(0, n, true);
    else if (type === 'FLOAT32') dv.setFloat32(0, n, true);
    else if (type === 'UINT64') dv.setBigUint64(0, BigInt(v as number), true);
    else if (type === 'INT64') dv.setBigInt64(0, BigInt(v as number), true);
    else dv.setFloat64(0, n, true);
    this.push(b);
  }
  str(s: string): void {
    const b = new TextEncoder().encode(s);
    this.num('UINT64', b.byteLength);
    this.push(b);
  }
  scalar(type: ScalarType, v: number | bigint | boolean | string): void {
    if (type === 'STRING') this.str(v as string);
    else this.num(type, v as number);
  }
  pad(align: number): void {
    const n = (align - (this.length % align)) % align;
    if (n) this.push(new Uint8Array(n));
  }
  concat(): Uint8Array {
    const out = new Uint8Array(this.length);
    let at = 0;
    for (const p of this.parts) {
      out.set(p, at);
      at += p.byteLength;
    }
    return out;
  }
}

/** A whole GGUF file: magic, version 3, counts, metadata, tensor infos, padding, aligned tensor data. */
export function buildGguf(kvs: GgufKV[], tensors: GgufTensorSpec[], alignment = 32): Uint8Array {
  const b = new Bytes();
  b.push(new TextEncoder().encode('GGUF'));
  b.num('UINT32', 3);
  b.num('UINT64', tensors.length);
  b.num('UINT64', kvs.length);
  for (const kv of kvs) {
    b.str(kv.key);
    b.num('UINT32', GGUF_VALUE[kv.type]);
    if (kv.type === 'ARRAY') {
      b.num('UINT32', GGUF_VALUE[kv.of]);
      b.num('UINT64', kv.value.length);
      for (const v of kv.value) b.scalar(kv.of, v);
    } else b.scalar(kv.type, kv.value);
  }
  let offset = 0;
  for (const t of tensors) {
    b.str(t.name);
    b.num('UINT32', t.shape.length);
    for (const d of [...t.shape].reverse()) b.num('UINT64', d);
    b.num('UINT32', t.type);
    b.num('UINT64', offset);
    offset += Math.ceil(t.data.byteLength / alignment) * alignment;
  }
  b.pad(alignment);
  for (const t of tensors) {
    b.push(t.data);
    b.pad(alignment);
  }
  return b.concat();
}

/** llama.cpp's converter permutation of llama Q/K rows (HF rotate-half → interleaved pairs) on f32 rows. */
export function permuteRows(data: Float32Array, rows: number, cols: number, heads: number): Float32Array {
  const hd = rows / heads;
  const out = new Float32Array(data.length);
  for (let h = 0; h < heads; h++) {
    for (let i = 0; i < hd / 2; i++) {
      for (let j = 0; j < 2; j++) {
        const from = (h * hd + j * (hd / 2) + i) * cols;
        out.set(data.subarray(from, from + cols), (h * hd + 2 * i + j) * cols);
      }
    }
  }
  return out;
}

const GGUF_NAMES: [RegExp, string][] = [
  [/^model\.embed_tokens\.weight$/, 'token_embd.weight'],
  [/^model\.norm\.weight$/, 'output_norm.weight'],
  [/^lm_head\.weight$/, 'output.weight'],
  [/^model\.layers\.(\d+)\.input_layernorm\.weight$/, 'blk.$1.attn_norm.weight'],
  [/^model\.layers\.(\d+)\.self_attn\.(q|k|v)_proj\.(weight|bias)$/, 'blk.$1.attn_$2.$3'],
  [/^model\.layers\.(\d+)\.self_attn\.o_proj\.weight$/, 'blk.$1.attn_output.weight'],
  [/^model\.layers\.(\d+)\.self_attn\.(q|k)_norm\.weight$/, 'blk.$1.attn_$2_norm.weight'],
  [/^model\.layers\.(\d+)\.self_attn\.qkv_proj\.weight$/, 'blk.$1.attn_qkv.weight'],
  [/^model\.layers\.(\d+)\.mlp\.gate_up_proj\.weight$/, 'blk.$1.ffn_up.weight'],
  [/^model\.layers\.(\d+)\.post_attention_layernorm\.weight$/, 'blk.$1.ffn_norm.weight'],
  [/^model\.layers\.(\d+)\.pre_feedforward_layernorm\.weight$/, 'blk.$1.ffn_norm.weight'],
  [/^model\.layers\.(\d+)\.post_feedforward_layernorm\.weight$/, 'blk.$1.post_ffw_norm.weight'],
  [/^model\.layers\.(\d+)\.mlp\.(gate|up|down)_proj\.weight$/, 'blk.$1.ffn_$2.weight'],
];

/** GGUF tensor name of a Hugging Face one (Gemma's post_attention_layernorm follows attention: post_attention_norm). */
export function ggufName(hf: string, cfg?: ModelConfig): string {
  if (cfg?.gemma && /\.post_attention_layernorm\.weight$/.test(hf))
    return hf.replace(/^model\.layers\.(\d+)\..*$/, 'blk.$1.post_attention_norm.weight');
  for (const [re, to] of GGUF_NAMES) if (re.test(hf)) return hf.replace(re, to);
  throw new UnsupportedArchitectureError(`No GGUF tensor name for ${hf}.`);
}

export interface ConvertOptions {
  /** Type of the 2-D weights; rows that are not whole blocks fall back to F16, as llama.cpp does. */
  type: GgmlName;
  /** Per-tensor override of `type` (by Hugging Face name). */
  typeOf?: (hfName: string) => GgmlName | undefined;
  /** tokenizer.ggml.* metadata; default: just the token list `tokens` and bos / eos from the config. */
  tokenizerKVs?: GgufKV[];
  tokens?: string[];
  /** general.name; default 'test model'. */
  name?: string;
  /** Edits the metadata list before it is written (e.g. another architecture). */
  editKVs?: (kvs: GgufKV[]) => GgufKV[];
}

/** llama.cpp's LlamaFileType (general.file_type) of a file whose 2-D weights are mostly `type`. */
const FILE_TYPE: Partial<Record<GgmlName, number>> = {
  F32: 0,
  F16: 1,
  Q4_0: 2,
  Q4_1: 3,
  Q8_0: 7,
  Q5_0: 8,
  BF16: 32,
};
/** GGML_QUANT_VERSION, which llama.cpp writes as general.quantization_version. */
const QUANT_VERSION = 2;

/**
 * Metadata as `@huggingface/gguf` parses it (e.g. ggufTokenizerMetadata's) as typed KVs, the types
 * llama.cpp's converter uses: scores f32, token types i32, other integers u32, other numbers f32.
 */
export function kvsFromJson(meta: Record<string, unknown>): GgufKV[] {
  const numType = (key: string, v: number): ScalarType =>
    key.endsWith('.scores') || !Number.isInteger(v)
      ? 'FLOAT32'
      : key.endsWith('.token_type') || v < 0
        ? 'INT32'
        : 'UINT32';
  return Object.entries(meta).map(([key, value]): GgufKV => {
    if (Array.isArray(value)) {
      const of: ScalarType =
        typeof value[0] === 'string' ? 'STRING' : key.endsWith('.token_type') ? 'INT32' : numType(key, 0.5);
      return { key, type: 'ARRAY', of, value: value as (string | number)[] };
    }
    if (typeof value === 'string') return { key, type: 'STRING', value };
    if (typeof value === 'boolean') return { key, type: 'BOOL', value };
    return { key, type: numType(key, Number(value)), value: value as number };
  });
}

/** The `<arch>.*` and general metadata llama.cpp's converter writes for a Llama-family config. */
export function modelKVs(cfg: ModelConfig, name = 'test model', type?: GgmlName): GgufKV[] {
  // llama.cpp writes Mistral checkpoints as architecture llama.
  const a = cfg.modelType === 'mistral' ? 'llama' : cfg.modelType;
  const fileType = type === undefined ? undefined : FILE_TYPE[type];
  return [
    { key: 'general.architecture', type: 'STRING', value: a },
    { key: 'general.type', type: 'STRING', value: 'model' },
    { key: 'general.name', type: 'STRING', value: name },
    { key: 'general.alignment', type: 'UINT32', value: 32 },
    ...(fileType === undefined
      ? []
      : [{ key: 'general.file_type', type: 'UINT32', value: fileType } as GgufKV]),
    { key: 'general.quantization_version', type: 'UINT32', value: QUANT_VERSION },
    { key: `${a}.vocab_size`, type: 'UINT32', value: cfg.vocabSize },
    { key: `${a}.context_length`, type: 'UINT32', value: cfg.maxPositions },
    { key: `${a}.embedding_length`, type: 'UINT32', value: cfg.hiddenSize },
    { key: `${a}.block_count`, type: 'UINT32', value: cfg.numLayers },
    { key: `${a}.feed_forward_length`, type: 'UINT32', value: cfg.intermediateSize },
    { key: `${a}.attention.head_count`, type: 'UINT32', value: cfg.numHeads },
    { key: `${a}.attention.head_count_kv`, type: 'UINT32', value: cfg.numKvHeads },
    { key: `${a}.rope.freq_base`, type: 'FLOAT32', value: cfg.ropeTheta },
    { key: `${a}.rope.dimension_count`, type: 'UINT32', value: cfg.rotaryDim ?? cfg.headDim },
    { key: `${a}.attention.key_length`, type: 'UINT32', value: cfg.headDim },
    { key: `${a}.attention.value_length`, type: 'UINT32', value: cfg.headDim },
    { key: `${a}.attention.layer_norm_rms_epsilon`, type: 'FLOAT32', value: cfg.rmsNormEps },
    ...(cfg.ropeScaling?.type === 'longrope'
      ? ([
          { key: `${a}.rope.scaling.attn_factor`, type: 'FLOAT32', value: cfg.ropeScaling.attentionFactor },
          {
            key: `${a}.rope.scaling.original_context_length`,
            type: 'UINT32',
            value: cfg.ropeScaling.originalMaxPositions,
          },
        ] as GgufKV[])
      : []),
    ...(a === 'phi3' ? [{ key: `${a}.attention.sliding_window`, type: 'UINT32', value: 0 } as GgufKV] : []),
    ...(cfg.ropeScaling?.type === 'linear'
      ? ([
          { key: `${a}.rope.scaling.type`, type: 'STRING', value: 'linear' },
          { key: `${a}.rope.scaling.factor`, type: 'FLOAT32', value: cfg.ropeScaling.factor },
        ] as GgufKV[])
      : []),
    ...gemmaKVs(cfg, a),
  ];
}

/**
 * Gemma's keys as convert_hf_to_gguf.py writes them: Gemma 2 its soft-caps and window (the
 * alternation is llama.cpp's default pattern), Gemma 3 its window when it has one (the 5:1 pattern is
 * the default), the local RoPE base and a final soft-cap when set. The attention scale is no key:
 * llama.cpp uses 1/√head_dim (and n_embd / n_head for the 46-layer 27B).
 */
function gemmaKVs(cfg: ModelConfig, a: string): GgufKV[] {
  if (!cfg.gemma) return [];
  const f32 = (key: string, value: number): GgufKV => ({ key: `${a}.${key}`, type: 'FLOAT32', value });
  const out: GgufKV[] = [];
  if (cfg.attnLogitSoftcap) out.push(f32('attn_logit_softcapping', cfg.attnLogitSoftcap));
  if (cfg.finalLogitSoftcap) out.push(f32('final_logit_softcapping', cfg.finalLogitSoftcap));
  if (cfg.slidingWindow)
    out.push({ key: `${a}.attention.sliding_window`, type: 'UINT32', value: cfg.slidingWindow });
  // a period other than llama.cpp's default for the architecture (its own key; the converter never writes it)
  const period = cfg.slidingWindowPattern;
  if (period !== undefined && period !== (cfg.modelType === 'gemma2' ? 2 : 6))
    out.push({ key: `${a}.attention.sliding_window_pattern`, type: 'UINT32', value: period });
  if (cfg.ropeLocalTheta !== undefined) out.push(f32('rope.freq_base_swa', cfg.ropeLocalTheta));
  return out;
}

/**
 * The RoPE factor tensors llama.cpp's converter writes: for `llama3`, `rope_freqs.weight` F32
 * [headDim/2], each frequency's divisor (1 for short wavelengths, `factor` for long ones, blended
 * between); for `longrope`, `rope_factors_long.weight` and `rope_factors_short.weight` [rotaryDim/2].
 */
export function ropeFactorTensors(cfg: ModelConfig): GgufTensorSpec[] {
  const f32 = (name: string, values: ArrayLike<number>): GgufTensorSpec => {
    const data = Float32Array.from(values); // [n]
    return { name, shape: [data.length], type: GGML_TYPE_IDS.F32, data: new Uint8Array(data.buffer) };
  };
  const s = cfg.ropeScaling;
  if (s?.type === 'longrope') {
    return [f32('rope_factors_long.weight', s.longFactor), f32('rope_factors_short.weight', s.shortFactor)];
  }
  if (s?.type !== 'llama3') return [];
  const plain = ropeInvFreqs(cfg.headDim, cfg.ropeTheta);
  const scaled = ropeInvFreqs(cfg.headDim, cfg.ropeTheta, s);
  return [
    f32(
      'rope_freqs.weight',
      plain.map((f, i) => f / scaled[i]),
    ),
  ];
}

/** Converts f32 Hugging Face tensors into a GGUF file like convert_hf_to_gguf.py + llama-quantize. */
export function ggufFromModel(
  cfg: ModelConfig,
  tensors: Map<string, HostTensor>,
  opts: ConvertOptions,
): Uint8Array {
  const tok: GgufKV[] = opts.tokenizerKVs ?? [
    { key: 'tokenizer.ggml.model', type: 'STRING', value: 'llama' },
    { key: 'tokenizer.ggml.tokens', type: 'ARRAY', of: 'STRING', value: opts.tokens ?? [] },
    ...(cfg.bosTokenId !== null
      ? [{ key: 'tokenizer.ggml.bos_token_id', type: 'UINT32', value: cfg.bosTokenId } as GgufKV]
      : []),
    ...(cfg.eosTokenIds.length
      ? [{ key: 'tokenizer.ggml.eos_token_id', type: 'UINT32', value: cfg.eosTokenIds[0] } as GgufKV]
      : []),
  ];
  const specs: GgufTensorSpec[] = [];
  for (const [name, t] of tensors) {
    if (name === LM_HEAD && cfg.tieWordEmbeddings) continue;
    let data = f32Values(t);
    // Gemma's norms as their multiplier 1 + w (the converter adds 1 to every norm weight)
    if (cfg.gemma && /norm\.weight$/.test(name)) data = data.map((w) => w + 1);
    const qk = /self_attn\.(q|k)_proj\.weight$/.exec(name);
    // llama.cpp's converter interleaves Q/K rows for its llama architecture (llama, and mistral
    // written as llama) only; qwen2/qwen3/phi3 keep the NEOX (rotate-half) order.
    if ((cfg.modelType === 'llama' || cfg.modelType === 'mistral') && qk) {
      data = permuteRows(data, t.shape[0], t.shape[1], qk[1] === 'q' ? cfg.numHeads : cfg.numKvHeads);
    }
    let type: GgmlName = t.shape.length === 2 ? (opts.typeOf?.(name) ?? opts.type) : 'F32';
    const cols = t.shape[t.shape.length - 1];
    if (cols % blockOf(type) !== 0) type = 'F16';
    specs.push({
      name: ggufName(name, cfg),
      shape: t.shape,
      type: GGML_TYPE_IDS[type],
      data: quantizeGgml(data, type),
    });
  }
  specs.unshift(...ropeFactorTensors(cfg));
  const kvs = [...modelKVs(cfg, opts.name, opts.type), ...tok];
  return buildGguf(opts.editKVs ? opts.editKVs(kvs) : kvs, specs);
}

function blockOf(type: GgmlName): number {
  return type === 'Q4_K' || type === 'Q6_K' ? 256 : type.startsWith('Q') ? 32 : 1;
}
