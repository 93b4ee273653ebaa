import type { PreTrainedTokenizer } from '@huggingface/transformers';
import type { ChatMessage } from '../api/model.ts';
import { InvalidArgumentError, ModelFormatError } from '../errors.ts';
import { type ModelSource, openModelSource } from './source.ts';
import type { ModelConfig } from './types.ts';

export type { ChatMessage } from '../api/model.ts';

/**
 * Text ↔ token ids for one model, built offline from its tokenizer.json and tokenizer_config.json.
 *
 * `encode(text)` adds exactly what the tokenizer.json post-processor adds when `addSpecialTokens`
 * is true (the default). For Llama-2-style SentencePiece tokenizers such as stories260K that is the
 * BOS id (1) in front, and no EOS; the normalizer also prepends '▁' to the text, so "Once" becomes
 * the single piece "▁Once". With `addSpecialTokens: false` nothing is added.
 */
export interface Tokenizer {
  encode(text: string, opts?: { addSpecialTokens?: boolean }): number[];
  /**
   * `skipSpecialTokens` defaults to false (so BOS decodes as "<s>"). `[]` gives ''. Ids the
   * tokenizer does not know (a model vocab larger than the tokenizer's) decode as the unk token.
   */
  decode(ids: number[], opts?: { skipSpecialTokens?: boolean }): string;
  /**
   * Renders the model's chat template and encodes the result without adding special tokens (the
   * template writes its own). Throws InvalidArgumentError when the model has no chat template.
   */
  applyChatTemplate(messages: ChatMessage[], opts?: { addGenerationPrompt?: boolean }): number[];
  /** The chat template rendered as text (same rules and errors as applyChatTemplate). */
  renderChatTemplate(messages: ChatMessage[], opts?: { addGenerationPrompt?: boolean }): string;
  readonly hasChatTemplate: boolean;
  readonly bosTokenId: number | null;
  /** Stop tokens: config.json eos ids, then generation_config.json's, then the tokenizer's eos token. */
  readonly eosTokenIds: number[];
}

/** The parsed files a tokenizer is built from. */
export interface TokenizerFiles {
  tokenizerJson: unknown;
  tokenizerConfig: unknown;
  /** Used when tokenizer_config.json has no chat_template (e.g. a separate chat_template.jinja). */
  chatTemplate?: string | null;
  /** eos_token_id of generation_config.json, if any. */
  generationEosIds?: number[];
}

/**
 * Reads tokenizer.json, tokenizer_config.json (optional), chat_template.jinja (optional) and
 * generation_config.json (optional) through the model source and builds the tokenizer. Nothing is
 * fetched from the Hugging Face Hub.
 */
export async function loadTokenizer(
  source: ModelSource | string,
  config?: ModelConfig,
  signal?: AbortSignal,
): Promise<Tokenizer> {
  const src = typeof source === 'string' ? openModelSource(source) : source;
  const tokenizerJson = await src.readJson('tokenizer.json', signal);
  const tokenizerConfig = (await src.exists('tokenizer_config.json', signal))
    ? await src.readJson('tokenizer_config.json', signal)
    : {};
  const hasInline = isObject(tokenizerConfig) && tokenizerConfig.chat_template != null;
  const chatTemplate =
    !hasInline && (await src.exists('chat_template.jinja', signal))
      ? await src.readText('chat_template.jinja', signal)
      : null;
  let generationEosIds: number[] = [];
  if (await src.exists('generation_config.json', signal)) {
    const gen = await src.readJson('generation_config.json', signal);
    generationEosIds = isObject(gen) ? tokenIds(gen.eos_token_id) : [];
  }
  return createTokenizer({ tokenizerJson, tokenizerConfig, chatTemplate, generationEosIds }, config);
}

/**
 * Builds a tokenizer from parsed JSON with `@huggingface/transformers` (imported on first use, with
 * `env.allowRemoteModels = false`): the class named by tokenizer_config's `tokenizer_class`
 * ("Fast" suffix dropped, e.g. LlamaTokenizer) is constructed as `new Cls(tokenizerJson, tokenizerConfig)`,
 * falling back to PreTrainedTokenizer, exactly as AutoTokenizer does after downloading.
 */
export async function createTokenizer(files: TokenizerFiles, config?: ModelConfig): Promise<Tokenizer> {
  const tf = await import('@huggingface/transformers');
  tf.env.allowRemoteModels = false;
  if (!isObject(files.tokenizerJson)) throw new ModelFormatError('tokenizer.json must hold a JSON object.');
  if (!isObject(files.tokenizerConfig))
    throw new ModelFormatError('tokenizer_config.json must hold a JSON object.');
  const tokenizerConfig = { ...files.tokenizerConfig };
  if (tokenizerConfig.chat_template == null && files.chatTemplate)
    tokenizerConfig.chat_template = files.chatTemplate;

  const className =
    typeof tokenizerConfig.tokenizer_class === 'string' ? tokenizerConfig.tokenizer_class : '';
  const exported = (tf as unknown as Record<string, unknown>)[className.replace(/Fast$/, '')];
  const Cls =
    typeof exported === 'function' && exported.prototype instanceof tf.PreTrainedTokenizer
      ? (exported as typeof tf.PreTrainedTokenizer)
      : tf.PreTrainedTokenizer;
  let tok: PreTrainedTokenizer;
  try {
    tok = new Cls(files.tokenizerJson, tokenizerConfig);
  } catch (e) {
    throw new ModelFormatError(`tokenizer.json could not be loaded: ${(e as Error).message}`, { cause: e });
  }
  return new HfTokenizer(tok, config, files.generationEosIds ?? []);
}

class HfTokenizer implements Tokenizer {
  readonly hasChatTemplate: boolean;
  readonly bosTokenId: number | null;
  readonly eosTokenIds: number[];

  constructor(
    private readonly tok: PreTrainedTokenizer,
    config: ModelConfig | undefined,
    generationEos: number[],
  ) {
    this.hasChatTemplate = tok.chat_template != null;
    this.bosTokenId = validId(tok.bos_token_id) ?? config?.bosTokenId ?? null;
    const eos = [...(config?.eosTokenIds ?? []), ...generationEos];
    const own = validId(tok.eos_token_id);
    if (own !== null) eos.push(own);
    this.eosTokenIds = [...new Set(eos)];
  }

  encode(text: string, opts: { addSpecialTokens?: boolean } = {}): number[] {
    return this.tok.encode(text, { add_special_tokens: opts.addSpecialTokens ?? true });
  }

  decode(ids: number[], opts: { skipSpecialTokens?: boolean } = {}): string {
    if (ids.length === 0) return ''; // transformers.js throws on an empty list
    return this.tok.decode(ids, { skip_special_tokens: opts.skipSpecialTokens ?? false });
  }

  renderChatTemplate(messages: ChatMessage[], opts: { addGenerationPrompt?: boolean } = {}): string {
    if (!this.hasChatTemplate) {
      throw new InvalidArgumentError(
        'This model has no chat template (tokenizer_config.json chat_template or chat_template.jinja): pass a plain text prompt instead of chat messages.',
      );
    }
    try {
      return this.tok.apply_chat_template(messages, {
        tokenize: false,
        add_generation_prompt: opts.addGenerationPrompt ?? false,
      });
    } catch (e) {
      // Templates reject messages they cannot render (e.g. roles that do not alternate).
      throw new InvalidArgumentError(
        `The chat template could not render these messages: ${(e as Error).message}`,
      );
    }
  }

  applyChatTemplate(messages: ChatMessage[], opts: { addGenerationPrompt?: boolean } = {}): number[] {
    return this.encode(this.renderChatTemplate(messages, opts), { addSpecialTokens: false });
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function validId(v: unknown): number | null {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 ? v : null;
}

function tokenIds(v: unknown): number[] {
  if (Array.isArray(v)) return v.map(validId).filter((x): x is number => x !== null);
  const one = validId(v);
  return one === null ? [] : [one];
}
