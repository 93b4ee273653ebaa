/**
 * The `tokenizer.ggml.*` metadata llama.cpp's convert_hf_to_gguf.py writes for a Hugging Face
 * tokenizer, in the JS shapes `@huggingface/gguf` parses it into (strings, arrays, numbers; float32
 * scores). Our own re-statement of the converter's rules (kvshare convert, tests):
 *
 * - SentencePiece vocabularies (BPE with byte_fallback) → model "llama". With the original
 *   tokenizer.model (`_set_vocab_sentencepiece`) tokens, scores and types come from it; from
 *   tokenizer.json alone (`_set_vocab_llama_hf`) every score is -1000 and types are byte / control
 *   (special added tokens) / normal.
 * - Byte-level BPE (`_set_vocab_gpt2`) → model "gpt2": tokens by id ([PADn] unused for gaps), added
 *   tokens control when special or `<|…|>`-shaped else user-defined, merges as "left right", and the
 *   pre-tokenizer name `get_vocab_base_pre` would find (told here by the split regex).
 * - SpecialVocab: add_bos/add_eos from the post-processor template then tokenizer_config flags, the
 *   bos/eos/unk/pad ids of tokenizer_config's tokens, and tokenizer_config's chat_template.
 */

import { ModelFormatError, UnsupportedArchitectureError } from '../../errors.ts';

type Json = Record<string, unknown>;
interface AddedToken {
  id: number;
  content: string;
  special: boolean;
}

const QWEN2_SPLIT =
  "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
const LLAMA3_SPLIT =
  "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

export interface GgufVocabOptions {
  /** The sentencepiece tokenizer.model beside tokenizer.json, when the converter would read it. */
  sentencepieceModel?: Uint8Array;
  /**
   * config.json's vocab_size: a vocabulary shorter than the embedding is padded to it with unused
   * `[PADn]` tokens, as llama.cpp's converter does (e.g. Qwen2: 151,669 tokens, 151,936 rows).
   */
  vocabSize?: number;
  /**
   * SentencePiece-style vocabularies without tokenizer.model: score each merged piece by its first
   * merge's rank (−rank; other tokens −1000) instead of llama.cpp's −1000 placeholder for all. llama.cpp's
   * tokenizer merges the highest-scoring piece first, so with the placeholder it merges in another
   * order than tokenizer.json; with ranks it merges as tokenizer.json does. (kvshare convert sets it.)
   */
  scoresFromMerges?: boolean;
}

export function ggufTokenizerMetadata(
  tokenizerJson: Json,
  tokenizerConfig: Json,
  opts: GgufVocabOptions = {},
): Json {
  const model = tokenizerJson.model as Json | undefined;
  if (model?.type !== 'BPE' || typeof model.vocab !== 'object' || model.vocab === null)
    throw new UnsupportedArchitectureError(
      `tokenizer.json holds a ${String(model?.type ?? 'missing')} model; GGUF conversion handles BPE tokenizers (SentencePiece-style with byte fallback, or byte-level).`,
    );
  const added = (tokenizerJson.added_tokens ?? []) as AddedToken[];
  const vocabIds = model.vocab as Record<string, number>;
  const meta: Json =
    model.type === 'BPE' && model.byte_fallback === true
      ? llamaVocab(vocabIds, added, opts.sentencepieceModel, opts.scoresFromMerges ? model.merges : undefined)
      : gpt2Vocab(tokenizerJson, vocabIds, added);
  if (opts.vocabSize !== undefined) padVocab(meta, opts.vocabSize);
  Object.assign(meta, specialVocab(tokenizerJson, tokenizerConfig, added));
  return meta;
}

function llamaVocab(
  vocab: Record<string, number>,
  added: AddedToken[],
  spModel?: Uint8Array,
  merges?: unknown,
): Json {
  const base = { 'tokenizer.ggml.model': 'llama', 'tokenizer.ggml.pre': 'default' };
  if (spModel) {
    const pieces = sentencepiecePieces(spModel);
    return {
      ...base,
      'tokenizer.ggml.tokens': pieces.map((p) => p.piece),
      'tokenizer.ggml.scores': pieces.map((p) => p.score),
      'tokenizer.ggml.token_type': pieces.map((p) => p.type),
    };
  }
  const tokens = byId(vocab, added);
  const special = new Set(added.filter((t) => t.special).map((t) => t.id));
  const scores = tokens.map(() => -1000);
  if (Array.isArray(merges)) {
    const scored = new Set<number>();
    merges.forEach((m: unknown, rank) => {
      const joined = typeof m === 'string' ? m.replace(' ', '') : Array.isArray(m) ? m.join('') : null;
      const id = joined === null ? undefined : vocab[joined];
      if (id === undefined || scored.has(id)) return;
      scored.add(id);
      scores[id] = -rank;
    });
  }
  return {
    ...base,
    'tokenizer.ggml.tokens': tokens,
    'tokenizer.ggml.scores': scores,
    'tokenizer.ggml.token_type': tokens.map((t, id) =>
      /^<0x[0-9A-Fa-f]{2}>$/.test(t) ? 6 : special.has(id) ? 3 : 1,
    ),
  };
}

function gpt2Vocab(tokenizerJson: Json, vocab: Record<string, number>, added: AddedToken[]): Json {
  const tokens = byId(vocab, added);
  const addedById = new Map(added.map((t) => [t.id, t]));
  const types = tokens.map((t, id) => {
    const a = addedById.get(id);
    if (!a) return vocab[t] === id ? 1 : 5; // 5: a [PADn] gap
    return a.special || (t.startsWith('<|') && t.endsWith('|>')) ? 3 : 4;
  });
  const merges = ((tokenizerJson.model as Json).merges as (string | [string, string])[]).map((m) =>
    typeof m === 'string' ? m : m.map((part) => part.replaceAll(' ', 'Ġ')).join(' '),
  );
  return {
    'tokenizer.ggml.model': 'gpt2',
    'tokenizer.ggml.pre': preName(tokenizerJson.pre_tokenizer as Json),
    'tokenizer.ggml.tokens': tokens,
    'tokenizer.ggml.token_type': types,
    'tokenizer.ggml.merges': merges,
  };
}

function preName(pre: Json): string {
  const parts = (pre.type === 'Sequence' ? pre.pretokenizers : [pre]) as Json[];
  const split = parts.find((p) => p.type === 'Split');
  const regex = (split?.pattern as Json | undefined)?.Regex;
  if (regex === QWEN2_SPLIT) return 'qwen2';
  if (regex === LLAMA3_SPLIT) return 'llama-bpe';
  if (!split && parts.some((p) => p.type === 'ByteLevel' && p.use_regex !== false)) return 'gpt-2';
  throw new UnsupportedArchitectureError(
    "The tokenizer's pre-tokenizer is none that kvshare convert knows (byte-level BPE: GPT-2, Llama 3 or Qwen2 splits).",
  );
}

/** Pads the token list (and scores, token types) to `size` with unused [PADn] tokens, score -1000. */
function padVocab(meta: Json, size: number): void {
  const tokens = meta['tokenizer.ggml.tokens'] as string[];
  const scores = meta['tokenizer.ggml.scores'] as number[] | undefined;
  const types = meta['tokenizer.ggml.token_type'] as number[];
  for (let i = tokens.length; i < size; i++) {
    tokens.push(`[PAD${i}]`);
    scores?.push(-1000);
    types.push(5); // UNUSED
  }
}

/** Token strings by id over vocab and added tokens; ids nobody holds become [PADn]. */
function byId(vocab: Record<string, number>, added: AddedToken[]): string[] {
  const tokens: string[] = [];
  for (const [t, id] of Object.entries(vocab)) tokens[id] = t;
  for (const a of added) tokens[a.id] = a.content;
  return Array.from(tokens, (t, i) => t ?? `[PAD${i}]`);
}

function specialVocab(tokenizerJson: Json, config: Json, added: AddedToken[]): Json {
  const meta: Json = {};
  const contentOf = (v: unknown) =>
    typeof v === 'string' ? v : ((v as Json | null)?.content as string | undefined);
  const post = tokenizerJson.post_processor as Json | null;
  for (const p of (post?.processors ?? (post ? [post] : [])) as Json[]) {
    if (p.type !== 'TemplateProcessing') continue;
    const single = p.single as Json[];
    if (single.length < 2) continue;
    const first = (single[0].SpecialToken as Json | undefined)?.id;
    const last = (single[single.length - 1].SpecialToken as Json | undefined)?.id;
    if (first) meta['tokenizer.ggml.add_bos_token'] = first === contentOf(config.bos_token);
    if (last) meta['tokenizer.ggml.add_eos_token'] = last === contentOf(config.eos_token);
  }
  const keys = { bos: 'bos_token_id', eos: 'eos_token_id', unk: 'unknown_token_id', pad: 'padding_token_id' };
  for (const [typ, key] of Object.entries(keys)) {
    const flag = config[`add_${typ}_token`];
    if (typeof flag === 'boolean' && (typ === 'bos' || typ === 'eos'))
      meta[`tokenizer.ggml.add_${typ}_token`] = flag;
    const content = contentOf(config[`${typ}_token`]);
    const id = added.find((a) => a.content === content)?.id;
    if (id !== undefined) meta[`tokenizer.ggml.${key}`] = id;
  }
  // A list of named templates: the one named "default" (llama.cpp also writes the others by name).
  const template = Array.isArray(config.chat_template)
    ? (config.chat_template as Json[]).find((t) => t.name === 'default')?.template
    : config.chat_template;
  if (typeof template === 'string') meta['tokenizer.chat_template'] = template;
  return meta;
}

/** Pieces of a sentencepiece ModelProto (field 1: piece = 1, score = 2 float, type = 3 varint). */
function sentencepiecePieces(buf: Uint8Array): { piece: string; score: number; type: number }[] {
  const pieces = [];
  for (const f of protoFields(buf)) {
    if (f.field !== 1 || !(f.value instanceof Uint8Array)) continue;
    const piece = { piece: '', score: 0, type: 1 };
    for (const g of protoFields(f.value)) {
      if (g.field === 1 && g.value instanceof Uint8Array) piece.piece = new TextDecoder().decode(g.value);
      if (g.field === 2 && typeof g.value === 'number') piece.score = g.value;
      if (g.field === 3 && typeof g.value === 'number') piece.type = g.value;
    }
    pieces.push(piece);
  }
  return pieces;
}

function* protoFields(buf: Uint8Array): Generator<{ field: number; value: number | Uint8Array }> {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let i = 0;
  const varint = () => {
    let r = 0;
    let shift = 0;
    for (;;) {
      const c = buf[i++];
      r += (c & 0x7f) * 2 ** shift;
      shift += 7;
      if (c < 0x80) return r;
    }
  };
  while (i < buf.length) {
    const key = varint();
    const wire = key & 7;
    const field = Math.floor(key / 8);
    if (wire === 0) yield { field, value: varint() };
    else if (wire === 5) {
      yield { field, value: view.getFloat32(i, true) };
      i += 4;
    } else if (wire === 1) i += 8;
    else if (wire === 2) {
      const len = varint();
      yield { field, value: buf.subarray(i, i + len) };
      i += len;
    } else
      throw new ModelFormatError(
        `tokenizer.model: protobuf wire type ${wire} is not expected in a sentencepiece model.`,
      );
  }
}
