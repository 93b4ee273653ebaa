import type { Tokenizer } from '../model/tokenizer/tokenizer.ts';

/**
 * Streams text from a growing list of token ids in time linear in the answer: each step decodes
 * only a short window (the tokens since the last settled text plus the one before them, so that
 * decoders which treat a leading space or byte sequence specially see their context) instead of the
 * whole answer again.
 */
export class IncrementalDecoder {
  /** Start of the context window: the tokens before `read` that were last emitted. */
  private prefix = 0;
  /** Tokens before this index are emitted. */
  private read = 0;

  constructor(private readonly tokenizer: Tokenizer) {}

  /**
   * The new text that `ids` (the whole answer so far, one or more tokens longer than at the last
   * call) adds, or '' while it ends inside a multi-byte character (a trailing U+FFFD is held back
   * until the next token completes it).
   */
  push(ids: readonly number[]): string {
    const opts = { skipSpecialTokens: true };
    const before = this.tokenizer.decode(ids.slice(this.prefix, this.read), opts);
    const window = this.tokenizer.decode(ids.slice(this.prefix), opts);
    if (window.length <= before.length || window.endsWith('\uFFFD')) return '';
    this.prefix = this.read;
    this.read = ids.length;
    return window.slice(before.length);
  }
}
