/**
 * Checks of every option where it enters the engine (load, generate, chat, cache), so a bad value is an
 * InvalidArgumentError naming it rather than a raw TypeError/RangeError later, or a value accepted that
 * makes every request fail.
 */
import type { ChatMessage } from '../api/model.ts';
import { EmptyPromptError, InvalidArgumentError } from '../errors.ts';
import { KV_DTYPES, type KVDtype } from '../util/kv-dtype.ts';
import { checkSignal } from '../util/signal.ts';
import { validateSampling } from './sampler.ts';
import type { GenerateOptions, LoadOptions, PromptInput } from './types.ts';

/** Largest context a load may ask for (positions are i32 on the GPU; real models stay far below). */
export const MAX_CONTEXT_LENGTH = 1 << 20;

const fail = (msg: string): never => {
  throw new InvalidArgumentError(msg);
};
const show = (v: unknown): string => {
  if (typeof v === 'number' || typeof v === 'bigint') return String(v);
  try {
    return JSON.stringify(v) ?? typeof v;
  } catch {
    return typeof v;
  }
};

function wholeNumber(name: string, v: unknown, min: number, max = Number.MAX_SAFE_INTEGER): void {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    fail(`${name} must be a whole number in [${min}, ${max}] (got ${show(v)})`);
  }
}

function optionalBool(name: string, v: unknown): void {
  if (v !== undefined && typeof v !== 'boolean') fail(`${name} must be true or false (got ${show(v)})`);
}

function optionalFunction(name: string, v: unknown): void {
  if (v !== undefined && typeof v !== 'function') fail(`${name} must be a function`);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function validateLoadArgs(location: unknown, opts: unknown): asserts opts is LoadOptions {
  if (typeof location !== 'string' || location.trim().length === 0) {
    fail(`load() needs a model folder or URL as a non-empty string (got ${show(location)})`);
  }
  if (!isObject(opts)) return fail('load() options must be an object');
  if (opts.contextLength !== undefined)
    wholeNumber('contextLength', opts.contextLength, 2, MAX_CONTEXT_LENGTH);
  if (opts.maxRows !== undefined) wholeNumber('maxRows', opts.maxRows, 1, 65536);
  if (opts.cacheBudgetBytes !== undefined) wholeNumber('cacheBudgetBytes', opts.cacheBudgetBytes, 0);
  optionalFunction('onProgress', opts.onProgress);
  optionalFunction('onWarning', opts.onWarning);
  checkSignal('signal', opts.signal);
  if (opts.reuse !== undefined && !isObject(opts.reuse)) fail('reuse must be an object');
  if (opts.persistence !== undefined && !isObject(opts.persistence)) fail('persistence must be an object');
  if (opts.quantize !== undefined && opts.quantize !== 'q4' && opts.quantize !== 'q8') {
    fail(`quantize must be 'q4' or 'q8' (got ${show(opts.quantize)})`);
  }
  if (opts.kvDtype !== undefined && !KV_DTYPES.includes(opts.kvDtype as KVDtype)) {
    fail(`kvDtype must be 'f16', 'f32' or 'q8' (got ${show(opts.kvDtype)})`);
  }
}

/** Every generate() option; `prompt` too when given. Token ids are bounded by `vocabSize` when known. */
export function validateGenerateArgs(
  prompt: unknown,
  opts: unknown,
  vocabSize?: number,
): asserts opts is GenerateOptions {
  if (prompt !== undefined) validatePrompt(prompt, vocabSize);
  if (!isObject(opts)) return fail('generate() options must be an object');
  for (const k of ['temperature', 'topK', 'topP'] as const) {
    if (opts[k] !== undefined && typeof opts[k] !== 'number')
      fail(`${k} must be a number (got ${show(opts[k])})`);
  }
  validateSampling(opts);
  if (opts.seed !== undefined) wholeNumber('seed', opts.seed, -(2 ** 53) + 1);
  if (opts.maxNewTokens !== undefined) wholeNumber('maxNewTokens', opts.maxNewTokens, 1);
  if (opts.stop !== undefined) {
    if (!Array.isArray(opts.stop) || opts.stop.some((s) => typeof s !== 'string')) {
      fail(`stop must be an array of strings (got ${show(opts.stop)})`);
    }
  }
  if (opts.stopTokenIds !== undefined) {
    if (!Array.isArray(opts.stopTokenIds)) fail('stopTokenIds must be an array of token ids');
    for (const id of opts.stopTokenIds as unknown[]) wholeNumber('every stopTokenIds entry', id, 0);
  }
  optionalBool('ignoreEos', opts.ignoreEos);
  optionalBool('addSpecialTokens', opts.addSpecialTokens);
  optionalBool('cachePrompt', opts.cachePrompt);
  checkSignal('signal', opts.signal);
  if (opts.reuse !== undefined && !isObject(opts.reuse)) fail('reuse must be an object');
}

/** A string, or {tokenIds} holding whole numbers in [0, vocabSize). */
export function validatePrompt(prompt: unknown, vocabSize?: number): asserts prompt is PromptInput {
  if (typeof prompt === 'string') return;
  if (!isObject(prompt) || !Array.isArray(prompt.tokenIds)) {
    fail(`the prompt must be a string or {tokenIds: number[]} (got ${show(prompt)})`);
  }
  const ids = (prompt as { tokenIds: unknown[] }).tokenIds;
  const max = vocabSize === undefined ? Number.MAX_SAFE_INTEGER : vocabSize - 1;
  ids.forEach((id, i) => {
    if (typeof id !== 'number' || !Number.isInteger(id) || id < 0 || id > max) {
      fail(`prompt token ${i} is ${show(id)}: token ids must be whole numbers in [0, ${max}]`);
    }
  });
}

const ROLES: ReadonlySet<string> = new Set(['system', 'user', 'assistant']);

/** Chat messages: an array of {role, content} with some text in at least one (EmptyPromptError). */
export function checkMessages(messages: unknown): ChatMessage[] {
  if (!Array.isArray(messages)) throw new InvalidArgumentError('messages must be an array of chat messages');
  for (const [i, m] of messages.entries()) {
    const ok =
      typeof m === 'object' &&
      m !== null &&
      ROLES.has((m as { role?: unknown }).role as string) &&
      typeof (m as { content?: unknown }).content === 'string';
    if (!ok) {
      throw new InvalidArgumentError(
        `messages[${i}] must be {role: 'system' | 'user' | 'assistant', content: string}`,
      );
    }
  }
  const list = messages as ChatMessage[];
  if (list.every((m) => m.content.trim().length === 0)) {
    throw new EmptyPromptError('The chat is empty: give at least one message with some text.');
  }
  return list;
}
