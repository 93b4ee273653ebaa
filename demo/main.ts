/**
 * The chat demo: checks WebGPU on the page first (and shows what to do when it is missing), then
 * starts the engine in its Web Worker (src/client) and wires the model picker, the chat, the cache
 * panel and the settings together. `#app[data-state]` says where the page is: checking, no-webgpu,
 * idle (no model), loading, ready, generating or load-error; `data-loads` and `data-answers` count
 * the loads and answers finished.
 */
import { createEngine, type EngineClient } from '../src/client/index.ts';
import { ChatSession } from './chat-session.ts';
import { fetchModelIndex, type ModelChoice } from './models.ts';
import { CachePanel } from './ui/cache-panel.ts';
import { ChatView } from './ui/chat-view.ts';
import { byId, describeError } from './ui/dom.ts';
import { ModelPicker } from './ui/model-picker.ts';
import { SettingsForm } from './ui/settings.ts';
import { showWebGPUMissing } from './ui/webgpu-missing.ts';
import { checkWebGPU } from './webgpu-check.ts';

type DemoState = 'checking' | 'no-webgpu' | 'idle' | 'loading' | 'ready' | 'generating' | 'load-error';

/** KV positions to allocate (the engine caps it at the model's own limit). */
const CONTEXT_LENGTH = 2048;

const app = byId('app');
const setState = (state: DemoState) => {
  app.dataset.state = state;
};
/** Counts finished loads and answers on #app (data-loads, data-answers), so tests can wait for the next. */
const countDone = (what: 'loads' | 'answers') => {
  app.dataset[what] = String(Number(app.dataset[what] ?? '0') + 1);
};

async function main(): Promise<void> {
  const gpu = await checkWebGPU();
  byId('boot-message').remove();
  if (!gpu.ok) {
    byId('model-picker').replaceChildren();
    showWebGPUMissing(byId('workspace'), gpu);
    setState('no-webgpu');
    return;
  }
  const index = await fetchModelIndex();
  const engine: EngineClient = createEngine();
  const session = new ChatSession(engine);
  const settings = new SettingsForm(byId('settings'));
  const cache = new CachePanel(byId('cache-panel'), engine);
  const chat = new ChatView(
    byId('chat'),
    (text) => void ask(text),
    () => session.stop(),
  );
  const picker = new ModelPicker(byId('model-picker'), index, (choice) => void load(choice));
  setState('idle');

  /** The model that loaded last (null when none is, or the last load failed with none to go back to). */
  let loaded: ModelChoice | null = null;

  /** Loads `choice` into the engine (progress in the picker); then the chat and cache panel are live. */
  async function open(choice: ModelChoice, status: string): Promise<void> {
    picker.progress.reset();
    picker.setStatus(status);
    const info = await engine.load(choice.url, {
      contextLength: CONTEXT_LENGTH,
      onProgress: (p) => picker.progress.update(p),
      onWarning: (w) => cache.warn(w),
    });
    loaded = choice;
    settings.limitTo(info.contextLength);
    picker.setStatus(`${choice.label} · ${info.adapter} · context ${info.contextLength}`);
    cache.setEnabled(true, choice.label.replace(/[^\w.-]+/g, '_'));
    await cache.refresh();
    chat.setMode('idle');
    setState('ready');
  }

  async function load(choice: ModelChoice): Promise<void> {
    const previous = loaded;
    setState('loading');
    picker.setBusy(true);
    chat.setMode('disabled');
    cache.setEnabled(false);
    try {
      await open(choice, `Loading ${choice.label}…`);
      session.reset();
      chat.clear();
      settings.useDefaultsFor(choice.source);
    } catch (e) {
      loaded = null;
      const { code, message } = describeError(e);
      picker.progress.fail();
      picker.setStatus('');
      picker.showError(code, message);
      // The engine let go of the working model to load this one: load it again, conversation kept.
      const back = previous && previous.url !== choice.url ? previous : null;
      if (
        !back ||
        !(await open(back, `Going back to ${back.label}…`).then(
          () => true,
          () => false,
        ))
      ) {
        picker.setStatus('');
        await cache.refresh();
        setState('load-error');
      }
    } finally {
      picker.setBusy(false);
      countDone('loads');
    }
  }

  async function ask(text: string): Promise<void> {
    const request = settings.read();
    if (!request) return; // out of range: the settings form says why, the prompt stays in the composer
    chat.addUser(text);
    chat.clearInput();
    const message = chat.addAssistant();
    chat.setMode('busy');
    picker.setBusy(true);
    setState('generating');
    try {
      const answer = await session.ask(text, request, (delta) => message.append(delta));
      const pieces = answer.usage
        ? await engine.tokenPieces(answer.usage.prompt_token_ids).catch(() => null)
        : null;
      message.finish(answer, pieces);
    } catch (e) {
      const { code, message: why } = describeError(e);
      message.fail(code, why);
    } finally {
      await cache.refresh();
      picker.setBusy(false);
      chat.setMode('idle');
      setState('ready');
      countDone('answers');
    }
  }
}

main().catch((e: unknown) => {
  const { code, message } = describeError(e);
  byId('workspace').replaceChildren(
    Object.assign(document.createElement('p'), {
      className: 'error',
      textContent: `The demo failed to start: ${code ? `${code}: ` : ''}${message}`,
    }),
  );
  setState('load-error');
});
