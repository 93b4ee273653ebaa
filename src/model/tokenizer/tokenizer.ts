import type { Template } from '@huggingface/jinja';
import { Tokenizer as HfTokenizerCore } from '@huggingface/tokenizers';
import type { ChatMessage } from '../../api/model.ts';
import { ContextOverflowError, InvalidArgumentError, ModelFormatError } from '../../errors.ts';
import { type ModelSource, openModelSource } from '../source/source.ts';
import type { ModelConfig } from '../types.ts';
import {
  addedTokenCounts,
  encodeSegments,
  holdsAddedToken,
  makePlaceholders,
  type Segment,
  sameCounts,
  splitRendering,
} from './chat-content.ts';
import { compileTemplate, DEFAULT_TEMPLATE_BUDGET, renderTemplate } from './chat-render.ts';

export type { ChatMessage } from '../../api/model.ts';

/** Default bound on the characters of a chat's messages (ChatTemplateOptions.maxChars). */
export const DEFAULT_MAX_CHARS = 1_000_000;

export interface ChatTemplateOptions {
  /** Append the template's opening of an assistant turn. Default false. */
  addGenerationPrompt?: boolean;
  /**
   * The old behaviour, for trusted text only: message contents may hold special tokens (a content
   * spelling `<|im_end|>` becomes that token). Default false: contents are plain text.
   */
  specialTokensInContent?: boolean;
  /**
   * Longest rendering (and longest string the template may make), characters. Messages longer
   * together are refused with ContextOverflowError before rendering. Default 1,000,000.
   */
  maxChars?: number;
  /** Wall time the template may run, ms (each of its two renderings). Default 750. */
  timeMs?: number;
}

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
   * template writes its own). Message contents are encoded as plain text: only the template's own
   * text yields special tokens (see chat-content.ts; `specialTokensInContent` for the old way).
   * The template runs under a time and size budget (chat-render.ts). Throws InvalidArgumentError
   * when the model has no chat template, or the template fails or goes past its budget.
   */
  applyChatTemplate(messages: ChatMessage[], opts?: ChatTemplateOptions): number[];
  /** The chat template rendered as text (same rules and errors as applyChatTemplate). */
  renderChatTemplate(messages: ChatMessage[], opts?: ChatTemplateOptions): string;
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
 * Builds a tokenizer from parsed JSON with `@huggingface/tokenizers` (tokenization) and
 * `@huggingface/jinja` (chat templates), exactly as transformers.js' PreTrainedTokenizer does after
 * AutoTokenizer downloads the files (its per-model subclasses change nothing for decoder LLMs):
 * special tokens come from tokenizer_config.json, `chat_template` may be a string or a list of
 * `{name, template}` (the one named "default" is used).
 */
export async function createTokenizer(files: TokenizerFiles, config?: ModelConfig): Promise<Tokenizer> {
  if (!isObject(files.tokenizerJson)) throw new ModelFormatError('tokenizer.json must hold a JSON object.');
  if (!isObject(files.tokenizerConfig))
    throw new ModelFormatError('tokenizer_config.json must hold a JSON object.');
  const tokenizerConfig = { ...files.tokenizerConfig };
  if (tokenizerConfig.chat_template == null && files.chatTemplate)
    tokenizerConfig.chat_template = files.chatTemplate;
  let core: HfTokenizerCore;
  let specialTokens: Record<string, string>;
  try {
    core = new HfTokenizerCore(files.tokenizerJson, tokenizerConfig);
    specialTokens = specialTokensMap(tokenizerConfig);
  } catch (e) {
    throw new ModelFormatError(`tokenizer.json could not be loaded: ${(e as Error).message}`, { cause: e });
  }
  const template = tokenizerConfig.chat_template === '' ? null : (tokenizerConfig.chat_template ?? null);
  return new HfTokenizer(core, specialTokens, template, config, files.generationEosIds ?? []);
}

/** The tokenizer_config.json keys transformers.js passes to a chat template (and reads ids of). */
const SPECIAL_TOKEN_KEYS = [
  'bos_token',
  'eos_token',
  'unk_token',
  'sep_token',
  'pad_token',
  'cls_token',
  'mask_token',
] as const;

/** `bos_token` etc. of tokenizer_config.json: a string or an AddedToken object `{__type, content}`. */
function specialTokensMap(config: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of SPECIAL_TOKEN_KEYS) {
    const item = Object.hasOwn(config, key) ? config[key] : null;
    if (!item) continue;
    if (typeof item === 'string') out[key] = item;
    else if (isObject(item) && item.__type === 'AddedToken' && typeof item.content === 'string')
      out[key] = item.content;
    else throw new ModelFormatError(`Unknown token in tokenizer_config.json ${key}: ${JSON.stringify(item)}`);
  }
  return out;
}

/** The template to render: a string, or the "default" entry of a `[{name, template}]` list. */
function chatTemplateText(v: unknown): string {
  if (typeof v === 'string') return v;
  if (Array.isArray(v)) {
    const named = new Map<string, string>();
    for (const item of v) {
      if (!isObject(item) || typeof item.name !== 'string' || typeof item.template !== 'string')
        throw new InvalidArgumentError(
          'chat_template must be a string or a list of {name, template} objects.',
        );
      named.set(item.name, item.template);
    }
    const def = named.get('default');
    if (def === undefined)
      throw new InvalidArgumentError(
        `chat_template lists several templates and none named "default" (${[...named.keys()].sort().join(', ')}).`,
      );
    return def;
  }
  throw new InvalidArgumentError('chat_template must be a string or a list of {name, template} objects.');
}

class HfTokenizer implements Tokenizer {
  readonly hasChatTemplate: boolean;
  readonly bosTokenId: number | null;
  readonly eosTokenIds: number[];
  private compiled: Template | null = null;

  constructor(
    private readonly core: HfTokenizerCore,
    private readonly specialTokens: Record<string, string>,
    private readonly template: unknown,
    config: ModelConfig | undefined,
    generationEos: number[],
  ) {
    this.hasChatTemplate = template !== null;
    this.bosTokenId = validId(this.tokenId(specialTokens.bos_token)) ?? config?.bosTokenId ?? null;
    const eos = [...(config?.eosTokenIds ?? []), ...generationEos];
    const own = validId(this.tokenId(specialTokens.eos_token));
    if (own !== null) eos.push(own);
    this.eosTokenIds = [...new Set(eos)];
  }

  private tokenId(token: string | undefined): number | undefined {
    return token === undefined ? undefined : this.core.token_to_id(token);
  }

  encode(text: string, opts: { addSpecialTokens?: boolean } = {}): number[] {
    return this.core.encode(text, { add_special_tokens: opts.addSpecialTokens ?? true }).ids;
  }

  decode(ids: number[], opts: { skipSpecialTokens?: boolean } = {}): string {
    if (ids.length === 0) return ''; // the library throws on an empty list
    return this.core.decode(ids, { skip_special_tokens: opts.skipSpecialTokens ?? false });
  }

  renderChatTemplate(messages: ChatMessage[], opts: ChatTemplateOptions = {}): string {
    return this.render(messages, opts);
  }

  applyChatTemplate(messages: ChatMessage[], opts: ChatTemplateOptions = {}): number[] {
    const rendered = this.render(messages, opts);
    if (opts.specialTokensInContent) return this.encode(rendered, { addSpecialTokens: false });
    const contents = messages.map((m) => (typeof m.content === 'string' ? m.content : ''));
    const ph = makePlaceholders(contents);
    const standIn = messages.map((m, i) =>
      typeof m.content === 'string' ? { ...m, content: ph.stand[i] } : m,
    );
    const { segments, intact } = splitRendering(this.render(standIn, opts), contents, ph);
    if (intact && segments.map((s) => s.text).join('') === rendered)
      return encodeSegments(this.core, segments);
    return this.encodeTransformed(messages, contents, rendered, segments, opts);
  }

  /**
   * The template changed some contents (altered the placeholders, split contents, branched on
   * them). Each message whose content spells added-token text is then placed in the real rendering
   * on its own (a rendering with only that content replaced; found when putting it back gives the
   * real rendering exactly) and kept plain. The rest is encoded as template text, allowed only when
   * the added tokens come out exactly as the template's own text yields them.
   */
  private encodeTransformed(
    messages: ChatMessage[],
    contents: string[],
    rendered: string,
    placeholderSegments: Segment[],
    opts: ChatTemplateOptions,
  ): number[] {
    const spans: [number, number][] = [];
    contents.forEach((content, i) => {
      if (!holdsAddedToken(this.core, content)) return;
      const ph = makePlaceholders([content]);
      const one = messages.map((m, j) => (j === i ? { ...m, content: ph.stand[0] } : m));
      const { segments, intact } = splitRendering(this.render(one, opts), [content], ph);
      if (!intact || segments.map((s) => s.text).join('') !== rendered) return; // transformed: counted below
      let at = 0;
      for (const seg of segments) {
        if (seg.content) spans.push([at, at + seg.text.length]);
        at += seg.text.length;
      }
    });
    spans.sort((a, b) => a[0] - b[0]);
    const segments: Segment[] = [];
    let at = 0;
    for (const [from, to] of spans) {
      if (from < at) continue; // cannot happen: messages render in distinct places
      if (from > at) segments.push({ text: rendered.slice(at, from), content: false });
      segments.push({ text: rendered.slice(from, to), content: true });
      at = to;
    }
    if (at < rendered.length) segments.push({ text: rendered.slice(at), content: false });
    const ids = encodeSegments(this.core, segments);
    const templateOnly = placeholderSegments.filter((s) => !s.content);
    const expected = addedTokenCounts(this.core, encodeSegments(this.core, templateOnly));
    if (sameCounts(addedTokenCounts(this.core, ids), expected)) return ids;
    throw new InvalidArgumentError(
      'A message holds special-token text and the chat template changes message contents, so the text cannot be kept plain: remove the markers from the message, or pass specialTokensInContent: true (trusted text only).',
    );
  }

  private render(messages: ChatMessage[], opts: ChatTemplateOptions): string {
    if (this.template === null) {
      throw new InvalidArgumentError(
        'This model has no chat template (tokenizer_config.json chat_template or chat_template.jinja): pass a plain text prompt instead of chat messages.',
      );
    }
    const maxChars = opts.maxChars ?? DEFAULT_MAX_CHARS;
    let chars = 0;
    for (const m of messages) chars += typeof m.content === 'string' ? m.content.length : 0;
    if (chars > maxChars)
      throw new ContextOverflowError(
        `The messages hold ${chars} characters, more than the ${maxChars} this context can take: shorten them.`,
      );
    try {
      this.compiled ??= compileTemplate(chatTemplateText(this.template));
    } catch (e) {
      if (e instanceof InvalidArgumentError) throw e;
      throw new InvalidArgumentError(`The chat template could not be parsed: ${(e as Error).message}`);
    }
    return renderTemplate(
      this.compiled,
      {
        messages,
        add_generation_prompt: opts.addGenerationPrompt ?? false,
        tools: null,
        documents: null,
        ...this.specialTokens,
      },
      {
        ...DEFAULT_TEMPLATE_BUDGET,
        // The template's own text comes on top of the contents.
        maxChars: 2 * maxChars + 65_536,
        timeMs: opts.timeMs ?? DEFAULT_TEMPLATE_BUDGET.timeMs,
      },
    );
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
