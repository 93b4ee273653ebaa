/**
 * The pre-tokenizers of GGUF byte-level BPE vocabularies (`tokenizer.ggml.model` = "gpt2"), keyed by
 * `tokenizer.ggml.pre`: the word-splitting regexes llama.cpp applies for each name (src/llama-vocab.cpp),
 * written as the tokenizer.json pieces a Hugging Face tokenizer of that family carries.
 */
import { UnsupportedArchitectureError } from '../../errors.ts';

export interface BpePreset {
  /** Split regexes applied in turn, each keeping matches and gaps as separate pieces. */
  regexes: string[];
  /** tokenizer.json normalizer (Qwen2's NFC), or null. */
  normalizer: { type: string } | null;
  /** Llama 3: a pre-token that is itself in the vocabulary is kept whole, merges are not run. */
  ignoreMerges: boolean;
  /** llama.cpp's add-BOS default for this name when the file has no tokenizer.ggml.add_bos_token. */
  addBos: boolean;
  /** tokenizer_config clean_up_tokenization_spaces of the family's Hugging Face tokenizer. */
  cleanUpSpaces: boolean;
}

const GPT2 = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)";
const QWEN2 =
  "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
const LLAMA3 =
  "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

const plain = { normalizer: null, ignoreMerges: false, addBos: false, cleanUpSpaces: false };
const llama3: BpePreset = {
  ...plain,
  regexes: [LLAMA3],
  ignoreMerges: true,
  addBos: true,
  cleanUpSpaces: true,
};
const qwen2: BpePreset = { ...plain, regexes: [QWEN2], normalizer: { type: 'NFC' } };
const gpt2: BpePreset = { ...plain, regexes: [GPT2] };

const PRESETS: Record<string, BpePreset> = {
  'llama-bpe': llama3,
  llama3,
  'llama-v3': llama3,
  qwen2,
  'deepseek-r1-qwen': qwen2,
  'gpt-2': gpt2,
  gpt2,
  // SmolLM: every digit on its own, then GPT-2's split.
  smollm: { ...plain, regexes: ['\\p{N}', GPT2] },
  // What llama.cpp uses for "default" or a missing name (it warns that quality suffers).
  default: { ...plain, regexes: ['[\\p{P}\\$\\+<=>\\^~\\|]+', GPT2, '\\p{N}+', '[0-9][0-9][0-9]'] },
};

/** The preset for a `tokenizer.ggml.pre` name (absent → "default"); unknown names throw. */
export function bpePreset(pre: string | undefined): BpePreset {
  const name = pre ?? 'default';
  const preset = Object.hasOwn(PRESETS, name) ? PRESETS[name] : undefined;
  if (!preset) {
    throw new UnsupportedArchitectureError(
      `GGUF pre-tokenizer '${name}' (tokenizer.ggml.pre) is not supported: expected one of ${Object.keys(PRESETS).join(', ')}. Put the model's tokenizer.json beside the .gguf file instead.`,
    );
  }
  return preset;
}

/** tokenizer.json pre_tokenizer for a preset: the regex splits, then the byte-to-unicode mapping. */
export function bpePreTokenizerJson(preset: BpePreset): unknown {
  return {
    type: 'Sequence',
    pretokenizers: [
      ...preset.regexes.map((regex) => ({
        type: 'Split',
        pattern: { Regex: regex },
        behavior: 'Isolated',
        invert: false,
      })),
      { type: 'ByteLevel', add_prefix_space: false, trim_offsets: false, use_regex: false },
    ],
  };
}
