/**
 * The OpenAI-shaped chat API over an Engine (in-thread). The worker host serves exactly this object,
 * so the mapping from chat requests to engine calls lives here once.
 *
 * messages → engine.chatPromptIds (the model's chat template, or BOS + contents joined by newlines)
 * → engine.generate / generateStream with the token ids. The engine stores prompt + answer K/V after
 * every request, so the next turn of a chat (the same messages plus the answer and a new question)
 * reuses the previous turn's KV without anything done here.
 */
import type {
  ChatCompletion,
  ChatCompletionChunk,
  ChatCompletionRequest,
  ChatCompletionRequestBase,
  ChatCompletionRequestNonStreaming,
  ChatCompletionRequestStreaming,
  ChatCompletionUsage,
  EngineApi,
} from '../api/types.ts';
import { AbortError, InvalidArgumentError } from '../errors.ts';
import { checkSignal } from '../util/signal.ts';
import type { Engine } from './engine.ts';
import { DEFAULT_REUSE, resolveReuse } from './prefill.ts';
import type { GenerateChunk, GenerateOptions, GenerateResult } from './types.ts';
import { checkMessages, validateGenerateArgs } from './validate-options.ts';

/** max_tokens when a request names none (capped by what is left of the context). */
export const DEFAULT_MAX_TOKENS = 128;

/** Wraps an Engine as the EngineApi (OpenAI-shaped chat, async cache and info). */
export function createChatApi(engine: Engine): EngineApi {
  function create(req: ChatCompletionRequestStreaming): Promise<AsyncIterable<ChatCompletionChunk>>;
  function create(req: ChatCompletionRequestNonStreaming): Promise<ChatCompletion>;
  function create(req: ChatCompletionRequest): Promise<ChatCompletion | AsyncIterable<ChatCompletionChunk>>;
  async function create(
    req: ChatCompletionRequest,
  ): Promise<ChatCompletion | AsyncIterable<ChatCompletionChunk>> {
    const prepared = prepare(engine, req);
    return req.stream ? startStream(engine, prepared) : complete(engine, prepared);
  }
  return {
    load: (location, opts = {}) => engine.load(location, opts),
    chat: { completions: { create } },
    interruptGenerate: async () => engine.interruptGenerate(),
    cache: {
      add: (input, opts) => engine.cache.add(input, opts),
      addDocument: (text, opts) => engine.cache.addDocument(text, opts),
      stats: async () => engine.cache.stats(),
      list: async () => engine.cache.list(),
      delete: (id) => engine.cache.delete(id),
      clear: () => engine.cache.clear(),
      exportPack: (ids) => engine.cache.exportPack(ids),
      mount: (url, opts) => engine.cache.mount(url, opts),
      importPack: (pack) => engine.cache.importPack(pack),
    },
    info: async () => engine.info,
    tokenPieces: async (ids) => engine.tokenPieces(checkIds(ids)),
    unload: () => engine.unload(),
  };
}

interface Prepared {
  ids: number[];
  opts: GenerateOptions;
  /** Aborts this request only (the caller's signal, or breaking out of a stream). */
  controller: AbortController;
  release(): void;
  head: { id: string; created: number; model: string };
}

function prepare(engine: Engine, req: ChatCompletionRequestBase): Prepared {
  if (typeof req !== 'object' || req === null)
    throw new InvalidArgumentError('the request must be an object');
  checkSignal('signal', req.signal);
  if (req.signal?.aborted) throw new AbortError();
  const messages = checkMessages(req.messages);
  const special = req.special_tokens_in_content;
  if (special !== undefined && typeof special !== 'boolean')
    throw new InvalidArgumentError('special_tokens_in_content must be a boolean');
  const ids = engine.chatPromptIds(messages, { specialTokensInContent: special });
  const info = engine.info!; // chatPromptIds threw EngineNotLoadedError otherwise
  const left = info.contextLength - ids.length;
  const opts: GenerateOptions = {
    maxNewTokens: req.max_tokens ?? Math.max(1, Math.min(DEFAULT_MAX_TOKENS, left)),
    temperature: req.temperature,
    topP: req.top_p,
    topK: req.top_k,
    seed: req.seed,
    stop: req.stop === undefined ? undefined : typeof req.stop === 'string' ? [req.stop] : req.stop,
    reuse: req.reuse,
  };
  // Checked here too (the engine checks again) so a bad request fails before it is queued.
  validateGenerateArgs(undefined, opts);
  resolveReuse(opts.reuse, DEFAULT_REUSE);
  const controller = new AbortController();
  opts.signal = controller.signal;
  const relay = () => controller.abort();
  req.signal?.addEventListener('abort', relay, { once: true });
  return {
    ids,
    opts,
    controller,
    release: () => req.signal?.removeEventListener('abort', relay),
    head: {
      id: `chatcmpl-${crypto.randomUUID()}`,
      created: Math.floor(Date.now() / 1000),
      model: modelName(info.location),
    },
  };
}

function checkIds(ids: unknown): number[] {
  if (!Array.isArray(ids) || ids.some((id) => !Number.isInteger(id) || id < 0)) {
    throw new InvalidArgumentError('token ids must be an array of whole numbers >= 0');
  }
  return ids as number[];
}

async function complete(engine: Engine, p: Prepared): Promise<ChatCompletion> {
  try {
    const r = await engine.generate({ tokenIds: p.ids }, p.opts);
    return {
      ...p.head,
      object: 'chat.completion',
      choices: [{ index: 0, message: { role: 'assistant', content: r.text }, finish_reason: r.finishReason }],
      usage: usageOf(r),
    };
  } finally {
    p.release();
  }
}

/** Starts generating; resolves once the first token is out (so errors before it reject here). */
async function startStream(engine: Engine, p: Prepared): Promise<AsyncIterable<ChatCompletionChunk>> {
  const gen = engine.generateStream({ tokenIds: p.ids }, p.opts);
  let first: IteratorResult<GenerateChunk, GenerateResult>;
  try {
    first = await gen.next();
  } catch (e) {
    p.release();
    throw e;
  }
  return chunks(p, gen, first);
}

async function* chunks(
  p: Prepared,
  gen: AsyncGenerator<GenerateChunk, GenerateResult>,
  first: IteratorResult<GenerateChunk, GenerateResult>,
): AsyncGenerator<ChatCompletionChunk> {
  const chunk = (content: string, finish: ChatCompletionChunk['choices'][0]['finish_reason']) => {
    const c: ChatCompletionChunk = {
      ...p.head,
      object: 'chat.completion.chunk',
      choices: [
        { index: 0, delta: sent === 0 ? { role: 'assistant', content } : { content }, finish_reason: finish },
      ],
    };
    sent++;
    return c;
  };
  let sent = 0;
  let text = '';
  let done = false;
  try {
    let next = first;
    while (!next.done) {
      if (next.value.text.length > 0) {
        text += next.value.text;
        yield chunk(next.value.text, null);
      }
      next = await gen.next();
    }
    done = true;
    const r = next.value;
    // The engine's final text may hold what the stream held back (an incomplete UTF-8 tail).
    const tail = r.text.startsWith(text) ? r.text.slice(text.length) : '';
    yield { ...chunk(tail, r.finishReason), usage: usageOf(r) };
  } finally {
    p.release();
    // Broken out of early: stop this request (and only this one).
    if (!done) p.controller.abort();
  }
}

function usageOf(r: GenerateResult): ChatCompletionUsage {
  return {
    prompt_tokens: r.stats.promptTokens,
    completion_tokens: r.stats.newTokens,
    total_tokens: r.stats.promptTokens + r.stats.newTokens,
    reused_tokens: r.reuse.reusedTokens,
    recomputed_tokens: r.reuse.recomputedTokens,
    time_to_first_token_ms: r.stats.ttftMs,
    estimated_full_prefill_ms: r.reuse.estimatedFullMs,
    prefill_path: r.reuse.path,
    entry_ids: r.reuse.entryIds,
    token_fates: r.reuse.fates,
    prompt_token_ids: r.promptTokenIds,
  };
}

/** 'http://host/models/stories260K-hf/' → 'stories260K-hf'. */
function modelName(location: string): string {
  const parts = location.split(/[\\/]+/).filter((s) => s.length > 0);
  return parts.at(-1) ?? location;
}
