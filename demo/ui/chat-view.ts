/**
 * The conversation on screen: user and assistant messages (model text set with textContent only),
 * the composer (prompt, Send, Stop), and under each answer its reuse badge and reuse map.
 */
import type { FinishReason } from '../../src/client/index.ts';
import type { Answer } from '../chat-session.ts';
import type { SavedTurn } from '../memory.ts';
import { el } from './dom.ts';
import { reuseBadge, reuseMap } from './reuse-map.ts';

/** One assistant message, filled in as the answer streams. */
export interface AssistantMessage {
  append(text: string): void;
  /** The answer is complete: show the badge and, when the pieces are known, the reuse map. */
  finish(answer: Answer, pieces: string[] | null): void;
  fail(code: string | null, message: string): void;
}

/** What the empty conversation says, by composer mode. */
const EMPTY_TEXT = {
  disabled: 'Load a model, then ask something.',
  idle: 'Ready: type a prompt below and press Enter.',
} as const;

const TRUNCATED_TEXT = '… cut off at the max new tokens limit (raise it in the settings for more)';

export class ChatView {
  private readonly list: HTMLElement;
  private readonly input: HTMLTextAreaElement;
  private readonly send: HTMLButtonElement;
  private readonly stop: HTMLButtonElement;
  private readonly newChat: HTMLButtonElement;
  private readonly empty: HTMLElement;

  constructor(host: HTMLElement, onSend: (text: string) => void, onStop: () => void, onNewChat: () => void) {
    this.empty = el('p', { class: 'empty', testid: 'chat-empty', text: EMPTY_TEXT.disabled });
    this.list = el('div', { class: 'messages', testid: 'messages', attrs: { 'aria-live': 'polite' } }, [
      this.empty,
    ]);
    this.input = el('textarea', {
      testid: 'prompt-input',
      attrs: {
        rows: '2',
        placeholder: 'Ask something… (Enter sends, Shift+Enter breaks the line)',
        'aria-label': 'Prompt',
      },
    });
    this.send = el('button', { testid: 'send-button', text: 'Send', attrs: { type: 'submit' } });
    this.stop = el('button', {
      testid: 'stop-button',
      class: 'secondary',
      text: 'Stop',
      attrs: { type: 'button' },
    });
    this.newChat = el('button', {
      testid: 'new-chat',
      class: 'secondary',
      text: 'New chat',
      attrs: { type: 'button', title: 'Forget this conversation (the KV cache stays)' },
    });
    const form = el('form', { class: 'composer' }, [
      this.input,
      el('div', { class: 'buttons' }, [this.send, this.stop, this.newChat]),
    ]);
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      const text = this.input.value.trim();
      if (text.length === 0 || this.send.disabled) return;
      onSend(text);
    });
    // Enter sends, Shift+Enter breaks the line.
    this.input.addEventListener('keydown', (ev) => {
      if (ev.key === 'Enter' && !ev.shiftKey && !ev.isComposing) {
        ev.preventDefault();
        form.requestSubmit();
      }
    });
    this.stop.addEventListener('click', () => onStop());
    this.newChat.addEventListener('click', () => onNewChat());
    host.replaceChildren(this.list, form);
    this.setMode('disabled');
  }

  /** disabled: no model; idle: ready to send; busy: an answer is being written (Stop enabled). */
  setMode(mode: 'disabled' | 'idle' | 'busy'): void {
    this.input.disabled = mode === 'disabled';
    this.send.disabled = mode !== 'idle';
    this.stop.disabled = mode !== 'busy';
    this.newChat.disabled = mode === 'busy';
    if (mode !== 'busy') this.empty.textContent = EMPTY_TEXT[mode];
    if (mode === 'idle') this.input.focus();
  }

  clearInput(): void {
    this.input.value = '';
  }

  clear(): void {
    this.list.replaceChildren(this.empty);
  }

  /** Show a conversation remembered from an earlier visit (answers without their badges). */
  restore(turns: readonly SavedTurn[]): void {
    this.clear();
    for (const turn of turns) {
      if (turn.role === 'user') this.addUser(turn.content);
      else this.addRestoredAnswer(turn.content, turn.finishReason);
    }
  }

  addUser(text: string): void {
    this.add(
      el('article', { class: 'message user', testid: 'message-user' }, [el('div', { class: 'text', text })]),
    );
  }

  addAssistant(): AssistantMessage {
    const text = el('div', { class: 'text', testid: 'message-text' });
    const node = el('article', { class: 'message assistant pending', testid: 'message-assistant' }, [text]);
    this.add(node);
    return {
      append: (delta) => {
        text.textContent += delta;
        this.scroll();
      },
      finish: (answer, pieces) => {
        node.classList.remove('pending');
        markEnd(node, text, answer.content, answer.finishReason);
        if (answer.usage) {
          node.append(reuseBadge(answer.usage, answer.finishReason));
          if (pieces) node.append(reuseMap(pieces, answer.usage.token_fates, answer.usage.prompt_token_ids));
        } else {
          node.append(
            el('div', {
              class: 'reuse-badge',
              testid: 'reuse-badge',
              text: 'stopped before the first token',
            }),
          );
        }
        this.scroll();
      },
      fail: (code, message) => {
        node.classList.remove('pending');
        node.classList.add('failed');
        node.dataset.finish = 'error';
        node.append(
          el('div', { class: 'error', testid: 'chat-error', text: code ? `${code}: ${message}` : message }),
        );
        this.scroll();
      },
    };
  }

  private addRestoredAnswer(content: string, finishReason: FinishReason): void {
    const text = el('div', { class: 'text', testid: 'message-text', text: content });
    const node = el('article', { class: 'message assistant restored', testid: 'message-assistant' }, [text]);
    markEnd(node, text, content, finishReason);
    node.append(el('div', { class: 'reuse-badge', text: 'from an earlier visit' }));
    this.add(node);
  }

  private add(node: HTMLElement): void {
    this.empty.remove();
    this.list.append(node);
    this.scroll();
  }

  private scroll(): void {
    this.list.scrollTop = this.list.scrollHeight;
  }
}

/** An answer's end: its finish reason, "(no text)" for an empty one, the mark of one cut by the limit. */
function markEnd(node: HTMLElement, text: HTMLElement, content: string, finish: FinishReason): void {
  node.dataset.finish = finish;
  if (content.length === 0) text.append(el('em', { text: '(no text)' }));
  if (finish === 'length') {
    node.append(el('div', { class: 'truncated', testid: 'truncated', text: TRUNCATED_TEXT }));
  }
}
