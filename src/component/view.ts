/**
 * The DOM inside a `<kvshare-chat>` shadow root: a message list, a form with an input, a send and a
 * stop button, and a status line. Every text, the model's included, is set with `textContent`: model
 * output is never parsed as HTML.
 */
import { KVSHARE_CHAT_CSS } from './styles.ts';

export interface ChatViewHandlers {
  /** The visitor submitted the form with this (trimmed, non-empty) text. */
  send(text: string): void;
  stop(): void;
}

/** One message in the list; `set` replaces its text (as text). */
export interface MessageBubble {
  readonly element: HTMLLIElement;
  set(text: string): void;
  /** The answer is complete: drop the typing cursor. */
  done(): void;
}

function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string> = {},
  text?: string,
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) el.setAttribute(name, value);
  if (text !== undefined) el.textContent = text;
  return el;
}

export class ChatView {
  readonly list: HTMLOListElement;
  readonly input: HTMLInputElement;
  readonly sendButton: HTMLButtonElement;
  readonly stopButton: HTMLButtonElement;
  readonly status: HTMLDivElement;

  constructor(root: ShadowRoot, handlers: ChatViewHandlers) {
    const style = h('style');
    style.textContent = KVSHARE_CHAT_CSS;
    this.list = h('ol', { part: 'messages', class: 'messages', 'aria-live': 'polite' });
    this.input = h('input', {
      part: 'input',
      class: 'input',
      type: 'text',
      placeholder: 'Ask something…',
      'aria-label': 'Your message',
      autocomplete: 'off',
      enterkeyhint: 'send',
    });
    this.sendButton = h('button', { part: 'send', class: 'send', type: 'submit' }, 'Send');
    this.stopButton = h('button', { part: 'stop', class: 'stop', type: 'button', hidden: '' }, 'Stop');
    this.status = h('div', { part: 'status', class: 'status', role: 'status' });
    const form = h('form', { class: 'composer' });
    form.append(this.input, this.sendButton, this.stopButton);
    const container = h('div', { part: 'container', class: 'container' });
    container.append(this.list, form, this.status);
    root.append(style, container);

    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      const text = this.input.value.trim();
      if (!text || this.sendButton.disabled) return;
      this.input.value = '';
      handlers.send(text);
    });
    this.stopButton.addEventListener('click', () => handlers.stop());
  }

  addMessage(role: 'user' | 'assistant', text: string, pending = false): MessageBubble {
    const element = h('li', { part: `message ${role}`, class: 'message', 'data-role': role }, text);
    if (pending) element.toggleAttribute('data-pending', true);
    this.append(element);
    return {
      element,
      set: (t) => {
        const follow = this.atBottom();
        element.textContent = t;
        if (follow) this.scrollDown();
      },
      done: () => element.removeAttribute('data-pending'),
    };
  }

  /** A notice in the message list (role alert), e.g. a failed load. */
  showError(text: string): void {
    this.append(h('li', { part: 'error', class: 'error', role: 'alert' }, text));
  }

  clear(): void {
    this.list.replaceChildren();
  }

  setStatus(text: string): void {
    this.status.textContent = text;
  }

  /** Whether the model is ready to take messages (the send button). */
  setReady(ready: boolean): void {
    this.sendButton.disabled = !ready;
  }

  /** While answering: the stop button replaces the send button. */
  setBusy(busy: boolean): void {
    this.sendButton.hidden = busy;
    this.stopButton.hidden = !busy;
  }

  private append(el: HTMLElement): void {
    this.list.append(el);
    this.scrollDown();
  }

  private atBottom(): boolean {
    const l = this.list;
    return l.scrollHeight - l.scrollTop - l.clientHeight < 24;
  }

  private scrollDown(): void {
    this.list.scrollTop = this.list.scrollHeight;
  }
}
