/**
 * A component's chat history: the turns so far, and the messages of the next request (the system
 * prompt first). When a request does not fit the model's context, the oldest turns are dropped.
 */
import type { ChatMessage } from '../client/index.ts';

export class Conversation {
  private turns: ChatMessage[] = [];
  /** Turns left out of requests because the context was full (they stay on screen). */
  private skipped = 0;

  get length(): number {
    return this.turns.length;
  }

  add(message: ChatMessage): void {
    this.turns.push(message);
  }

  /** Take back the newest turn (a question that got no answer). */
  removeLast(): void {
    if (this.turns.length > this.skipped) this.turns.pop();
  }

  clear(): void {
    this.turns = [];
    this.skipped = 0;
  }

  /** The next request's messages. */
  request(systemPrompt: string | null): ChatMessage[] {
    const turns = this.turns.slice(this.skipped);
    return systemPrompt ? [{ role: 'system', content: systemPrompt }, ...turns] : turns;
  }

  /**
   * Leave the oldest exchange (a user turn and its answer) out of later requests; false when only the
   * newest user turn is left, which must fit by itself.
   */
  dropOldest(): boolean {
    const left = this.turns.length - this.skipped;
    if (left <= 1) return false;
    this.skipped += Math.min(2, left - 1);
    return true;
  }
}
