/**
 * Documents in the cache: a long text split into chunks that are prefilled and stored on their own, so a
 * prompt may quote any of them, in any order, and reuse each (the many-sources case of docs/DESIGN.md).
 * The chunking is pure; `cacheDocument` runs it on the loaded model.
 */
import type {
  AddDocumentOptions,
  CacheAddProgress,
  DocumentAddResult,
  EntryUserMeta,
  KVEntryMeta,
} from '../api/cache.ts';
import { ContextOverflowError, InvalidArgumentError } from '../errors.ts';
import { checkUserMeta } from '../kvshare/user-meta.ts';
import type { Tokenizer } from '../model/tokenizer/tokenizer.ts';
import { checkSignal } from '../util/signal.ts';

/** Bounds on `chunkTokens`. */
export const MIN_CHUNK_TOKENS = 16;
/** Longest entry id `cache.add` accepts (the entry codec allows 4096 bytes; chunk ids add a suffix). */
export const MAX_ENTRY_ID_CHARS = 256;

/**
 * Split tokens [0, n) into consecutive chunks of at most `chunkTokens`: each chunk ends after the last
 * token in its final quarter for which `isBreak` holds (a sentence or line end), else at the limit.
 * Returns [start, end) pairs covering [0, n) in order.
 */
export function chunkBounds(
  n: number,
  chunkTokens: number,
  isBreak: (i: number) => boolean,
): [number, number][] {
  const out: [number, number][] = [];
  let start = 0;
  while (start < n) {
    let end = Math.min(start + chunkTokens, n);
    if (end < n) {
      const floor = start + Math.ceil((chunkTokens * 3) / 4);
      for (let i = end - 1; i >= floor; i--) {
        if (isBreak(i)) {
          end = i + 1;
          break;
        }
      }
    }
    out.push([start, end]);
    start = end;
  }
  return out;
}

/** Whether a token's text ends a sentence or a line. */
export function isBreakPiece(piece: string): boolean {
  return /[.!?\n]["'”’)]*\s*$/.test(piece);
}

/**
 * The tokens the tokenizer puts in front of a text with special tokens on (e.g. Llama's BOS), given the
 * text's ids with and without them.
 */
export function leadTokens(withSpecial: number[], plain: number[]): number[] {
  const lead = withSpecial.length - plain.length;
  if (lead <= 0) return [];
  for (let i = 0; i < plain.length; i++) if (withSpecial[lead + i] !== plain[i]) return [];
  return withSpecial.slice(0, lead);
}

/** The chunks of a document as token ids, each with the lead tokens in front. */
export function documentChunks(tokenizer: Tokenizer, text: string, chunkTokens: number): number[][] {
  const plain = tokenizer.encode(text, { addSpecialTokens: false });
  const lead = leadTokens(tokenizer.encode(text, { addSpecialTokens: true }), plain);
  const isBreak = (i: number) => isBreakPiece(tokenizer.decode([plain[i]]));
  return chunkBounds(plain.length, chunkTokens, isBreak).map(([a, b]) => [...lead, ...plain.slice(a, b)]);
}

/**
 * Checks of the options `cache.add` and `cache.addDocument` share; returns the checked copy of `meta`
 * (undefined when absent or empty).
 */
export function checkAddOptions(opts: unknown): EntryUserMeta | undefined {
  if (typeof opts !== 'object' || opts === null) throw new InvalidArgumentError('options must be an object');
  const o = opts as Record<string, unknown>;
  if (o.id !== undefined) {
    if (typeof o.id !== 'string' || o.id.length === 0 || o.id.length > MAX_ENTRY_ID_CHARS)
      throw new InvalidArgumentError(
        `id must be a non-empty string of at most ${MAX_ENTRY_ID_CHARS} characters`,
      );
  }
  if (o.onProgress !== undefined && typeof o.onProgress !== 'function')
    throw new InvalidArgumentError('onProgress must be a function');
  checkSignal('signal', o.signal);
  if (o.meta === undefined) return undefined;
  return checkUserMeta(o.meta, (msg) => {
    throw new InvalidArgumentError(msg);
  });
}

/** What cacheDocument needs from the engine. */
export interface DocumentSink {
  tokenizer: Tokenizer;
  contextLength: number;
  /** Ids of the entries the cache holds. */
  ids(): string[];
  delete(id: string): Promise<void>;
  /** Prefill `ids` and store them as entry `id` with `meta`; `onRows(n)` after each slice of n rows. */
  store(
    ids: number[],
    id: string,
    meta: EntryUserMeta | undefined,
    onRows: (n: number) => void,
    signal?: AbortSignal,
  ): Promise<KVEntryMeta>;
}

/** Longest document text, in characters per token of the context (far above real text). */
const DOCUMENT_CHARS_PER_CONTEXT_TOKEN = 256;

/** Chunk `text` and store every chunk (replacing the chunks of a document added with the same id). */
export async function cacheDocument(
  sink: DocumentSink,
  text: string,
  opts: AddDocumentOptions,
): Promise<DocumentAddResult> {
  if (typeof text !== 'string' || text.trim().length === 0)
    throw new InvalidArgumentError('the document must be a non-empty string');
  const meta = checkAddOptions(opts);
  const ctx = sink.contextLength;
  const maxChunk = ctx - 1;
  const ct = opts.chunkTokens;
  if (!Number.isInteger(ct) || ct < MIN_CHUNK_TOKENS || ct > maxChunk)
    throw new InvalidArgumentError(
      `chunkTokens must be a whole number from ${MIN_CHUNK_TOKENS} to ${maxChunk} (the context is ${ctx})`,
    );
  const maxChars = ctx * DOCUMENT_CHARS_PER_CONTEXT_TOKEN;
  if (text.length > maxChars)
    throw new ContextOverflowError(
      `the document has ${text.length} characters; at most ${maxChars} are chunked at a context of ${ctx}: split it`,
    );
  const id = opts.id ?? crypto.randomUUID();
  const chunks = documentChunks(sink.tokenizer, text, ct);
  const total = chunks.reduce((s, c) => s + c.length, 0);
  let done = 0;
  const progress = (p: CacheAddProgress) => opts.onProgress?.(p);
  // A document added before under this id: its chunks go, so no stale chunk outlives the new text.
  for (const old of sink.ids().filter((e) => e.startsWith(`${id}#`))) await sink.delete(old);
  const stored: KVEntryMeta[] = [];
  try {
    for (const [i, chunk] of chunks.entries()) {
      const onRows = (n: number) => {
        done += n;
        progress({ doneTokens: done, totalTokens: total });
      };
      stored.push(await sink.store(chunk, `${id}#${i}`, meta, onRows, opts.signal));
    }
  } catch (e) {
    // Aborted or refused part-way: a document is cached whole or not at all.
    for (const c of stored) await sink.delete(c.id);
    throw e;
  }
  return { id, chunks: stored };
}
