// A Hugging Face safetensors model (folder or base URL) → one GGUF file, with the tensor names, Q/K
// row order, metadata and tokenizer.ggml.* keys llama.cpp's convert_hf_to_gguf.py writes (kvshare
// convert). Works wherever loadModelFiles does (Node folders, URLs).
import { InvalidArgumentError } from '../../errors.ts';
import { parseConfig } from '../config.ts';
import { loadModelFiles } from '../load.ts';
import { openModelSource } from '../source/source.ts';
import { ggufLocation } from './gguf-load.ts';
import type { GgmlName } from './gguf-quantize.ts';
import { ggufTokenizerMetadata } from './gguf-vocab.ts';
import { ggufFromModel, kvsFromJson } from './gguf-writer.ts';

/** Weight types `kvshare convert --type` writes (llama.cpp's --outtype names, plus q4_0). */
export const GGUF_OUT_TYPES = ['f32', 'f16', 'bf16', 'q8_0', 'q4_0'] as const;
export type GgufOutType = (typeof GGUF_OUT_TYPES)[number];

export interface ConvertToGgufOptions {
  /**
   * Type of every 2-D weight (token embedding included, as llama.cpp's converter does for q8_0; q4_0
   * is llama-quantize's Q4_0 with every 2-D weight in it, like its --pure). Rows that are not whole
   * 32-value blocks fall back to F16; norms and biases stay F32.
   */
  type: GgufOutType;
  /** general.name; default: the last path segment of the location. */
  name?: string;
  signal?: AbortSignal;
}

export function isGgufOutType(v: unknown): v is GgufOutType {
  return typeof v === 'string' && (GGUF_OUT_TYPES as readonly string[]).includes(v);
}

/**
 * Reads config.json, the safetensors weights (decoded to f32), tokenizer.json, tokenizer_config.json
 * (or chat_template.jinja) and, when present, the SentencePiece tokenizer.model (its scores and token
 * types, as llama.cpp prefers), and returns the GGUF file's bytes.
 *
 * Errors: InvalidArgumentError (a type not in GGUF_OUT_TYPES, a .gguf input), ModelFileMissingError
 * (no config, weights or tokenizer.json), ModelFormatError, UnsupportedArchitectureError (an
 * architecture or tokenizer the engine or this converter does not handle), AbortError.
 */
export async function convertToGguf(location: string, opts: ConvertToGgufOptions): Promise<Uint8Array> {
  if (!isGgufOutType(opts.type))
    throw new InvalidArgumentError(
      `type must be one of ${GGUF_OUT_TYPES.join(', ')} (got ${String(opts.type)})`,
    );
  if (ggufLocation(location)) throw new InvalidArgumentError(`${location} is a GGUF file already.`);
  const { signal } = opts;
  const source = openModelSource(location);
  // Config and tokenizer first: a folder without them fails before the weights are read.
  const { vocabSize } = parseConfig(await source.readJson('config.json', signal));
  const tokenizerJson = (await source.readJson('tokenizer.json', signal)) as Record<string, unknown>;
  const tokenizerConfig = (
    (await source.exists('tokenizer_config.json', signal))
      ? await source.readJson('tokenizer_config.json', signal)
      : {}
  ) as Record<string, unknown>;
  if (tokenizerConfig.chat_template === undefined && (await source.exists('chat_template.jinja', signal)))
    tokenizerConfig.chat_template = await source.readText('chat_template.jinja', signal);
  const sentencepieceModel = (await source.exists('tokenizer.model', signal))
    ? await source.readBytes('tokenizer.model', undefined, signal)
    : undefined;
  const tokenizerKVs = kvsFromJson(
    ggufTokenizerMetadata(tokenizerJson, tokenizerConfig, {
      sentencepieceModel,
      vocabSize,
      scoresFromMerges: true,
    }),
  );

  // as stored: Phi-3's fused qkv_proj / gate_up_proj stay whole (llama.cpp's attn_qkv / ffn_up)
  const { config, tensors } = await loadModelFiles(source, { signal, asStored: true });
  const name =
    opts.name ??
    (location
      .replace(/[\\/]+$/, '')
      .split(/[\\/]/)
      .pop() ||
      'model');
  return ggufFromModel(config, tensors, { type: opts.type.toUpperCase() as GgmlName, tokenizerKVs, name });
}
