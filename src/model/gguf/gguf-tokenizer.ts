/**
 * A tokenizer from a GGUF file's metadata (`tokenizer.ggml.*`), for GGUF files that come without a
 * tokenizer.json: the metadata is turned into the tokenizer.json + tokenizer_config.json that the
 * model's Hugging Face tokenizer would have, and createTokenizer() reads those as for any model.
 *
 * - `llama` (SentencePiece BPE): scores rank the merges (a pair merges when the joined piece is in the
 *   vocabulary; higher score first, then lower id), `<0xXX>` byte tokens catch the rest, '▁' stands
 *   for a space and one is put in front of the text unless `tokenizer.ggml.add_space_prefix` is false.
 * - `gpt2` (byte-level BPE): `tokenizer.ggml.merges` in rank order, the word splits named by
 *   `tokenizer.ggml.pre` (see gguf-pretokenizers.ts).
 *
 * Token types (`tokenizer.ggml.token_type`): 2 unknown and 3 control become special added tokens,
 * 4 user-defined non-special added tokens, 5 unused and 6 byte stay plain vocabulary entries.
 * BOS/EOS follow llama.cpp: the file's `add_bos_token`/`add_eos_token` flags, else its defaults; the
 * stop tokens are eos, eot, eom and, as llama.cpp finds them by text, <|im_end|>, <|eot_id|> and kin.
 * `metadata` is what `@huggingface/gguf` parses: strings, arrays, numbers, and bigints for 64-bit ints.
 */
import { ModelFormatError, UnsupportedArchitectureError } from '../../errors.ts';
import type { TokenizerFiles } from '../tokenizer/tokenizer.ts';
import { type BpePreset, bpePreset, bpePreTokenizerJson } from './gguf-pretokenizers.ts';

const TYPE_NORMAL = 1;
const TYPE_UNKNOWN = 2;
const TYPE_CONTROL = 3;
const TYPE_USER_DEFINED = 4;

type Metadata = Record<string, unknown>;

/** Tokens llama.cpp also ends generation on, found by their text (end of turn / message / text). */
const END_OF_TURN = new Set([
  '<|eot_id|>',
  '<|eom_id|>',
  '<|im_end|>',
  '<|end|>',
  '<|endoftext|>',
  '<|end_of_text|>',
  '<end_of_turn>',
  '<EOT>',
]);

/** The vocabulary part of the metadata, one entry per token id. */
interface GgufVocab {
  tokens: string[]; // [nVocab]
  types: number[]; // [nVocab], 1 normal when the file has no token_type
  scores: number[] | null; // [nVocab]
}

interface SpecialIds {
  bos: number | null;
  eos: number | null;
  unk: number | null;
  pad: number | null;
  /** Extra stop tokens: eot/eom ids, then END_OF_TURN tokens. */
  stops: number[];
}

/** tokenizer.json + tokenizer_config.json contents built from GGUF metadata (see the file comment). */
export function tokenizerFilesFromGguf(metadata: Metadata): TokenizerFiles {
  const model = readString(metadata, 'tokenizer.ggml.model');
  if (model === undefined) {
    throw new ModelFormatError(
      'The GGUF file has no tokenizer (tokenizer.ggml.model is missing): put its tokenizer.json beside it.',
    );
  }
  if (model !== 'llama' && model !== 'gpt2') {
    throw new UnsupportedArchitectureError(
      `GGUF tokenizer model '${model}' (tokenizer.ggml.model) is not supported: expected llama or gpt2. Put the model's tokenizer.json beside the .gguf file instead.`,
    );
  }
  const vocab = readVocab(metadata);
  const preset = model === 'gpt2' ? bpePreset(readString(metadata, 'tokenizer.ggml.pre')) : null;
  const ids = readSpecialIds(metadata, vocab.tokens, model === 'llama');
  const addBos = readBool(metadata, 'tokenizer.ggml.add_bos_token') ?? (preset ? preset.addBos : true);
  const addEos = readBool(metadata, 'tokenizer.ggml.add_eos_token') ?? false;
  if (addBos && ids.bos === null)
    throw new ModelFormatError('GGUF add_bos_token is set but bos_token_id is not.');
  if (addEos && ids.eos === null)
    throw new ModelFormatError('GGUF add_eos_token is set but eos_token_id is not.');

  const name = (id: number | null) => (id === null ? null : vocab.tokens[id]);
  const common = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: addedTokens(vocab),
    post_processor: postProcessor(name(addBos ? ids.bos : null), name(addEos ? ids.eos : null), preset),
  };
  const tokenizerJson = preset
    ? { ...common, ...bpeParts(metadata, vocab, preset, name(ids.unk)) }
    : { ...common, ...spmParts(metadata, vocab, name(ids.unk)) };
  const chatTemplate = readString(metadata, 'tokenizer.chat_template');
  const tokenizerConfig = {
    tokenizer_class: preset ? 'PreTrainedTokenizerFast' : 'LlamaTokenizer',
    bos_token: name(ids.bos),
    eos_token: name(ids.eos),
    unk_token: name(ids.unk),
    pad_token: name(ids.pad),
    add_bos_token: addBos,
    add_eos_token: addEos,
    clean_up_tokenization_spaces: preset?.cleanUpSpaces ?? false,
    ...(chatTemplate === undefined ? {} : { chat_template: chatTemplate }),
  };
  return { tokenizerJson, tokenizerConfig, chatTemplate: null, generationEosIds: ids.stops };
}

function spmParts(metadata: Metadata, vocab: GgufVocab, unk: string | null) {
  const spacePrefix = readBool(metadata, 'tokenizer.ggml.add_space_prefix') ?? true;
  const replaceSpace = { type: 'Replace', pattern: { String: ' ' }, content: '▁' };
  return {
    normalizer: {
      type: 'Sequence',
      normalizers: spacePrefix ? [{ type: 'Prepend', prepend: '▁' }, replaceSpace] : [replaceSpace],
    },
    pre_tokenizer: null,
    model: {
      ...bpeModel(vocab, spmMerges(vocab), unk),
      fuse_unk: true,
      byte_fallback: true,
      ignore_merges: false,
    },
    decoder: {
      type: 'Sequence',
      decoders: [
        { type: 'Replace', pattern: { String: '▁' }, content: ' ' },
        { type: 'ByteFallback' },
        { type: 'Fuse' },
        ...(spacePrefix ? [{ type: 'Strip', content: ' ', start: 1, stop: 0 }] : []),
      ],
    },
  };
}

function bpeParts(metadata: Metadata, vocab: GgufVocab, preset: BpePreset, unk: string | null) {
  const merges = readArray(metadata, 'tokenizer.ggml.merges');
  if (!merges) throw new ModelFormatError('GGUF gpt2 tokenizer has no tokenizer.ggml.merges.');
  const pairs = merges.map((m, i): [string, string] => {
    const space = typeof m === 'string' ? m.indexOf(' ') : -1;
    if (space <= 0) throw new ModelFormatError(`GGUF tokenizer.ggml.merges[${i}] is not "left right".`);
    return [(m as string).slice(0, space), (m as string).slice(space + 1)];
  });
  return {
    normalizer: preset.normalizer,
    pre_tokenizer: bpePreTokenizerJson(preset),
    model: {
      ...bpeModel(vocab, pairs, unk),
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: preset.ignoreMerges,
    },
    decoder: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: false, use_regex: false },
  };
}

function bpeModel(vocab: GgufVocab, merges: [string, string][], unk: string | null) {
  const ids: Record<string, number> = Object.create(null); // a token may be "__proto__"
  vocab.tokens.forEach((t, id) => {
    if (!Object.hasOwn(ids, t)) ids[t] = id; // a repeated token string keeps its first id
  });
  return {
    type: 'BPE',
    dropout: null,
    unk_token: unk,
    continuing_subword_prefix: null,
    end_of_word_suffix: null,
    vocab: ids,
    merges,
  };
}

/**
 * SentencePiece BPE as merges: every split of a normal token into two normal tokens, ranked by the
 * joined token's score (higher first), then its id (lower first), then the halves' scores.
 */
function spmMerges(vocab: GgufVocab): [string, string][] {
  const { tokens, types, scores } = vocab;
  const score = (id: number) => scores?.[id] ?? 0;
  const normal = new Map<string, number>();
  tokens.forEach((t, id) => {
    if (types[id] === TYPE_NORMAL && !normal.has(t)) normal.set(t, id);
  });
  const found: { left: number; right: number; id: number }[] = [];
  for (const [t, id] of normal) {
    const chars = Array.from(t);
    for (let i = 1; i < chars.length; i++) {
      const left = normal.get(chars.slice(0, i).join(''));
      const right = normal.get(chars.slice(i).join(''));
      if (left !== undefined && right !== undefined) found.push({ left, right, id });
    }
  }
  found.sort(
    (a, b) =>
      score(b.id) - score(a.id) ||
      a.id - b.id ||
      score(b.left) - score(a.left) ||
      score(b.right) - score(a.right),
  );
  return found.map((m) => [tokens[m.left], tokens[m.right]]);
}

function addedTokens(vocab: GgufVocab) {
  const added = [];
  for (let id = 0; id < vocab.tokens.length; id++) {
    const type = vocab.types[id];
    if (type !== TYPE_UNKNOWN && type !== TYPE_CONTROL && type !== TYPE_USER_DEFINED) continue;
    added.push({
      id,
      content: vocab.tokens[id],
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: false,
      special: type !== TYPE_USER_DEFINED,
    });
  }
  return added;
}

/** BOS/EOS around the text when the flags ask for them; otherwise nothing is added. */
function postProcessor(bos: string | null, eos: string | null, preset: BpePreset | null): unknown {
  if (bos === null && eos === null) {
    return preset
      ? { type: 'ByteLevel', add_prefix_space: false, trim_offsets: false, use_regex: false }
      : null;
  }
  const special = (t: string | null, typeId: number) =>
    t === null ? [] : [{ SpecialToken: { id: t, type_id: typeId } }];
  const seq = (s: string, typeId: number) => ({ Sequence: { id: s, type_id: typeId } });
  const specialTokens: Record<string, unknown> = {};
  for (const t of [bos, eos]) if (t !== null) specialTokens[t] = { id: t, ids: [], tokens: [t] };
  return {
    type: 'TemplateProcessing',
    single: [...special(bos, 0), seq('A', 0), ...special(eos, 0)],
    pair: [
      ...special(bos, 0),
      seq('A', 0),
      ...special(eos, 0),
      ...special(bos, 1),
      seq('B', 1),
      ...special(eos, 1),
    ],
    special_tokens: specialTokens,
  };
}

function readVocab(metadata: Metadata): GgufVocab {
  const tokens = readArray(metadata, 'tokenizer.ggml.tokens');
  if (!tokens || tokens.length === 0) {
    throw new ModelFormatError(
      'GGUF tokenizer has no tokenizer.ggml.tokens array: put its tokenizer.json beside it.',
    );
  }
  if (!tokens.every((t): t is string => typeof t === 'string')) {
    throw new ModelFormatError('GGUF tokenizer.ggml.tokens must hold strings.');
  }
  const n = tokens.length;
  const types = readNumbers(metadata, 'tokenizer.ggml.token_type', n) ?? tokens.map(() => TYPE_NORMAL);
  const scores = readNumbers(metadata, 'tokenizer.ggml.scores', n) ?? null;
  return { tokens, types, scores };
}

function readSpecialIds(metadata: Metadata, tokens: string[], spm: boolean): SpecialIds {
  const n = tokens.length;
  // llama.cpp's defaults for SentencePiece vocabularies: <unk> 0, <s> 1, </s> 2.
  const id = (key: string, fallback: number | null) => {
    const v = readInt(metadata, `tokenizer.ggml.${key}`);
    if (v === undefined) return fallback !== null && fallback < n ? fallback : null;
    if (v < 0 || v >= n)
      throw new ModelFormatError(`GGUF tokenizer.ggml.${key} ${v} is outside the ${n} tokens.`);
    return v;
  };
  const stops = [id('eot_token_id', null), id('eom_token_id', null)].filter((v): v is number => v !== null);
  tokens.forEach((t, i) => {
    if (END_OF_TURN.has(t) && !stops.includes(i)) stops.push(i);
  });
  return {
    bos: id('bos_token_id', spm ? 1 : null),
    eos: id('eos_token_id', spm ? 2 : null),
    unk: id('unknown_token_id', spm ? 0 : null),
    pad: id('padding_token_id', null),
    stops,
  };
}

function readString(metadata: Metadata, key: string): string | undefined {
  const v = metadata[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw new ModelFormatError(`GGUF ${key} must be a string.`);
  return v;
}

function readBool(metadata: Metadata, key: string): boolean | undefined {
  const v = metadata[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'boolean') throw new ModelFormatError(`GGUF ${key} must be a boolean.`);
  return v;
}

function readArray(metadata: Metadata, key: string): unknown[] | undefined {
  const v = metadata[key];
  if (v === undefined) return undefined;
  if (!Array.isArray(v)) throw new ModelFormatError(`GGUF ${key} must be an array.`);
  return v;
}

/** An integer (number or bigint) as a number. */
function readInt(metadata: Metadata, key: string): number | undefined {
  const v = metadata[key];
  if (v === undefined) return undefined;
  const n = typeof v === 'bigint' ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isSafeInteger(n))
    throw new ModelFormatError(`GGUF ${key} must be an integer.`);
  return n;
}

/** A numeric array (numbers or bigints) of exactly `n` entries. */
function readNumbers(metadata: Metadata, key: string, n: number): number[] | undefined {
  const arr = readArray(metadata, key);
  if (!arr) return undefined;
  if (arr.length !== n) throw new ModelFormatError(`GGUF ${key} has ${arr.length} entries for ${n} tokens.`);
  return arr.map((v) => {
    const x = typeof v === 'bigint' ? Number(v) : v;
    if (typeof x !== 'number' || Number.isNaN(x))
      throw new ModelFormatError(`GGUF ${key} must hold numbers.`);
    return x;
  });
}
