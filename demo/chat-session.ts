/**
 * One conversation with the engine: builds each request's messages (the latest question alone, or the
 * whole conversation), streams the answer, and stops it on demand. The UI lives in ui/chat-view.ts.
 */
import {
  AbortError,
  type ChatCompletionUsage,
  type ChatMessage,
  type EngineApi,
  type FinishReason,
} from '../src/client/index.ts';
import type { SavedTurn } from './memory.ts';
import type { ChatSettings } from './ui/settings.ts';

export interface Answer {
  content: string;
  finishReason: FinishReason;
  /** Absent when the request was stopped before it started. */
  usage: ChatCompletionUsage | null;
}

export class ChatSession {
  private turns: SavedTurn[] = [];
  private controller: AbortController | null = null;

  constructor(private readonly engine: EngineApi) {}

  get busy(): boolean {
    return this.controller !== null;
  }

  /** The turns answered so far (questions and their answers), oldest first. */
  get history(): readonly SavedTurn[] {
    return this.turns;
  }

  /** Forget earlier turns (a new model, or "New chat"). */
  reset(): void {
    this.turns = [];
  }

  /** Continue a conversation remembered from an earlier visit. */
  restore(turns: readonly SavedTurn[]): void {
    this.turns = [...turns];
  }

  /** Asks `question`; `onText` gets the answer as it streams. Stopped answers resolve, not reject. */
  async ask(question: string, settings: ChatSettings, onText: (delta: string) => void): Promise<Answer> {
    if (this.controller) throw new Error('An answer is already being written.');
    const user: ChatMessage = { role: 'user', content: question };
    const system: ChatMessage[] = settings.systemPrompt
      ? [{ role: 'system', content: settings.systemPrompt }]
      : [];
    const earlier = settings.history ? this.turns.map(({ role, content }) => ({ role, content })) : [];
    const messages = [...system, ...earlier, user];
    const controller = new AbortController();
    this.controller = controller;
    let content = '';
    try {
      const stream = await this.engine.chat.completions.create({
        messages,
        stream: true,
        max_tokens: settings.maxTokens,
        temperature: settings.temperature,
        reuse: { mode: settings.reuseMode },
        signal: controller.signal,
      });
      let finishReason: FinishReason = 'abort';
      let usage: ChatCompletionUsage | null = null;
      for await (const chunk of stream) {
        const choice = chunk.choices[0];
        if (choice.delta.content) {
          content += choice.delta.content;
          onText(choice.delta.content);
        }
        if (choice.finish_reason) finishReason = choice.finish_reason;
        if (chunk.usage) usage = chunk.usage;
      }
      this.turns.push({ role: 'user', content: question }, { role: 'assistant', content, finishReason });
      return { content, finishReason, usage };
    } catch (e) {
      if (e instanceof AbortError || controller.signal.aborted)
        return { content, finishReason: 'abort', usage: null };
      throw e;
    } finally {
      this.controller = null;
    }
  }

  /** Stops the answer being written (it ends with finish reason 'abort'). */
  stop(): void {
    this.controller?.abort();
  }
}
