/**
 * `<kvshare-chat model="/models/stories260K-hf">`: a chat box answering with a model that runs on the
 * visitor's GPU. Attributes (reflected as properties): `model` (base URL of a model folder, or a .gguf URL),
 * `system-prompt`, `max-tokens` (default 64), `temperature` (default 0, greedy). Methods: `send(text)`,
 * `stop()`. Events (bubbling, composed): `ready`, `message`, `error` (see events.ts).
 *
 * Every component of a page shares one engine per model (engine-pool.ts); the `data-engine-id`
 * attribute names it.
 */
import {
  AbortError,
  type ChatCompletionChunk,
  type ChatCompletionUsage,
  EngineNotLoadedError,
  type FinishReason,
  InvalidArgumentError,
  KVShareError,
  type ModelInfo,
  WebGPUUnavailableError,
} from '../client/index.ts';
import { Conversation } from './conversation.ts';
import { type EngineLease, type EnginePool, sharedEnginePool } from './engine-pool.ts';
import { emit, errorDetail, friendlyMessage, type KVShareMessageDetail } from './events.ts';
import { progressText, readyText, usageText } from './format.ts';
import { ChatView } from './view.ts';

export const DEFAULT_MAX_TOKENS = 64;
export const DEFAULT_TEMPERATURE = 0;

function numberAttr(value: string | null, fallback: number, ok: (n: number) => boolean): number {
  const n = value === null || value.trim() === '' ? Number.NaN : Number(value);
  return Number.isFinite(n) && ok(n) ? n : fallback;
}

export class KVShareChat extends HTMLElement {
  static readonly observedAttributes = ['model', 'system-prompt', 'max-tokens', 'temperature'];

  /** The engines (Web Workers) alive on this page, shared by every component. */
  static engineCount(): number {
    return KVShareChat.pool().size;
  }

  /** The page's engine pool (one engine per model URL). */
  static pool(): EnginePool {
    return sharedEnginePool();
  }

  readonly #view: ChatView;
  readonly #conversation = new Conversation();
  #lease: EngineLease | null = null;
  #info: ModelInfo | null = null;
  #answering: AbortController | null = null;
  /** send() calls of this component, one after another. */
  #queue: Promise<unknown> = Promise.resolve();

  constructor() {
    super();
    const root = this.attachShadow({ mode: 'open' });
    this.#view = new ChatView(root, { send: (text) => void this.send(text), stop: () => this.stop() });
    this.#view.setReady(false);
  }

  get model(): string {
    return this.getAttribute('model') ?? '';
  }
  set model(value: string) {
    this.setAttribute('model', value);
  }
  get systemPrompt(): string | null {
    return this.getAttribute('system-prompt');
  }
  set systemPrompt(value: string | null) {
    if (value === null) this.removeAttribute('system-prompt');
    else this.setAttribute('system-prompt', value);
  }
  get maxTokens(): number {
    return numberAttr(
      this.getAttribute('max-tokens'),
      DEFAULT_MAX_TOKENS,
      (n) => Number.isInteger(n) && n > 0,
    );
  }
  set maxTokens(value: number) {
    this.setAttribute('max-tokens', String(value));
  }
  get temperature(): number {
    return numberAttr(this.getAttribute('temperature'), DEFAULT_TEMPERATURE, (n) => n >= 0);
  }
  set temperature(value: number) {
    this.setAttribute('temperature', String(value));
  }
  /** The loaded model, or null (loading, failed, or no model). */
  get modelInfo(): ModelInfo | null {
    return this.#info;
  }
  /** Whether an answer is being generated now. */
  get answering(): boolean {
    return this.#answering !== null;
  }

  connectedCallback(): void {
    this.#attach();
  }

  disconnectedCallback(): void {
    // Moving the element disconnects and reconnects it at once: keep its engine across that.
    queueMicrotask(() => {
      if (!this.isConnected) this.#detach();
    });
  }

  attributeChangedCallback(name: string, old: string | null, value: string | null): void {
    if (name === 'model' && old !== value && this.isConnected) this.#attach();
  }

  /**
   * Ask `text` as the next user turn and stream the answer into the list. Resolves to what the
   * `message` event carries, or null when nothing was answered (an `error` event says why, unless
   * the request was stopped before it started). Calls made while answering wait their turn.
   */
  send(text: string): Promise<KVShareMessageDetail | null> {
    const run = this.#queue.then(() => this.#answer(text.trim()));
    this.#queue = run.catch(() => undefined);
    return run;
  }

  /** Stop the answer being generated (it keeps what was written so far). */
  stop(): void {
    this.#answering?.abort();
  }

  /** Acquire the engine of the current `model`, unless this component already holds it. */
  #attach(): void {
    let model = '';
    try {
      model = this.model.trim() ? new URL(this.model, document.baseURI).href : '';
    } catch {
      this.#detach(true);
      this.#fail(new InvalidArgumentError(`model="${this.model}" is not a URL.`));
      return;
    }
    if (this.#lease && this.#lease.model === model.replace(/\/+$/, '')) return;
    const switching = this.#lease !== null;
    this.#detach(switching);
    if (!model) {
      this.#view.setStatus('No model: set the model attribute to the URL of a model folder.');
      return;
    }
    if (!globalThis.navigator?.gpu) {
      this.#fail(new WebGPUUnavailableError('navigator.gpu is missing: this browser has no WebGPU.'));
      return;
    }
    const lease = KVShareChat.pool().acquire(model, (p) => this.#view.setStatus(progressText(p)));
    this.#lease = lease;
    this.setAttribute('data-engine-id', lease.engineId);
    lease.ready.then(
      (info) => {
        if (this.#lease !== lease) return;
        this.#info = info;
        this.#view.setReady(true);
        this.#view.setStatus(readyText(info));
        emit(this, 'ready', info);
      },
      (e: unknown) => {
        if (this.#lease === lease) this.#fail(e);
      },
    );
  }

  /** Let go of the engine (stopping any answer); `forget` also clears the conversation. */
  #detach(forget = false): void {
    this.stop();
    this.#lease?.release();
    this.#lease = null;
    this.#info = null;
    this.removeAttribute('data-engine-id');
    this.#view.setReady(false);
    if (forget) {
      this.#conversation.clear();
      this.#view.clear();
    }
  }

  #fail(error: unknown): void {
    const detail = errorDetail(error);
    this.#view.showError(friendlyMessage(detail));
    this.#view.setStatus('');
    emit(this, 'error', detail);
  }

  async #answer(text: string): Promise<KVShareMessageDetail | null> {
    if (!text) return null;
    const lease = this.#lease;
    if (!lease) {
      this.#fail(
        new EngineNotLoadedError('No model is loaded: set the model attribute (and WebGPU must work).'),
      );
      return null;
    }
    try {
      await lease.ready;
    } catch {
      return null; // the load's error was reported when it failed
    }
    if (lease !== this.#lease) return null;

    this.#conversation.add({ role: 'user', content: text });
    this.#view.addMessage('user', text);
    const bubble = this.#view.addMessage('assistant', '', true);
    const ac = new AbortController();
    this.#answering = ac;
    this.#view.setBusy(true);
    this.#view.setStatus('Thinking…');
    let content = '';
    let usage: ChatCompletionUsage | null = null;
    let finishReason: FinishReason = 'stop';
    try {
      for await (const chunk of await this.#start(lease, ac.signal)) {
        const choice = chunk.choices[0];
        content += choice?.delta.content ?? '';
        if (choice?.finish_reason) finishReason = choice.finish_reason;
        if (chunk.usage) usage = chunk.usage;
        bubble.set(content);
      }
    } catch (e) {
      bubble.element.remove();
      if (lease !== this.#lease) return null; // detached meanwhile: nobody to tell
      this.#conversation.removeLast(); // unanswered: leave it out of the next request
      if (e instanceof AbortError) this.#view.setStatus('Stopped.');
      else this.#fail(e);
      return null;
    } finally {
      bubble.done();
      if (this.#answering === ac) {
        this.#answering = null;
        this.#view.setBusy(false);
      }
    }
    if (lease !== this.#lease) return null;
    this.#conversation.add({ role: 'assistant', content });
    if (usage) this.#view.setStatus(usageText(usage, finishReason === 'abort'));
    const detail: KVShareMessageDetail = { role: 'assistant', content, usage, finishReason };
    emit(this, 'message', detail);
    return detail;
  }

  /** Start the stream; when the chat no longer fits the context, leave the oldest turns out. */
  async #start(lease: EngineLease, signal: AbortSignal): Promise<AsyncIterable<ChatCompletionChunk>> {
    for (;;) {
      try {
        return await lease.engine.chat.completions.create({
          messages: this.#conversation.request(this.systemPrompt),
          stream: true,
          max_tokens: this.maxTokens,
          temperature: this.temperature,
          signal,
        });
      } catch (e) {
        const overflow = e instanceof KVShareError && e.code === 'CONTEXT_OVERFLOW';
        if (!overflow || !this.#conversation.dropOldest()) throw e;
      }
    }
  }
}
