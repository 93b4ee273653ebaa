/**
 * The chat demo: checks WebGPU on the page first (and shows what to do when it is missing), then
 * starts the engine in its Web Worker (src/client) and wires the model picker, the chat, the cache
 * panel and the settings together. Remembered (memory.ts): the last model that loaded, and per model
 * its settings and its conversation. A return visit shows the conversation and loads that model by
 * itself, with Stop loading to skip it; `?model=` (a local name, a Hugging Face id or a URL) loads
 * that model instead, with its own conversation; `?kv=f32|f16|q8` picks how K/V are stored (default the
 * engine's, f16; the cache panel shows the bytes). A load never replaces the settings with defaults:
 * a model used before gets its own back, a new one keeps those on screen. `#app[data-state]` says
 * where the page is: checking, no-webgpu, idle (no model), loading, ready, generating or load-error;
 * `data-loads` and `data-answers` count the loads and answers finished.
 */
import { createEngine, type EngineClient, type KVDtype } from '../src/client/index.ts';
import { ChatSession } from './chat-session.ts';
import { memory } from './memory.ts';
import { fetchModelIndex, type ModelChoice } from './models.ts';
import { CachePanel } from './ui/cache-panel.ts';
import { ChatView } from './ui/chat-view.ts';
import { DocumentsPanel } from './ui/documents-panel.ts';
import { byId, describeError } from './ui/dom.ts';
import { ModelPicker } from './ui/model-picker.ts';
import { SettingsForm } from './ui/settings.ts';
import { showWebGPUMissing } from './ui/webgpu-missing.ts';
import { checkWebGPU } from './webgpu-check.ts';

type DemoState = 'checking' | 'no-webgpu' | 'idle' | 'loading' | 'ready' | 'generating' | 'load-error';

/** KV positions to allocate (the engine caps it at the model's own limit). */
const CONTEXT_LENGTH = 2048;
/** `?kv=` as a K/V dtype, or undefined (the engine's default) when absent or not one. */
const KV_DTYPE = ((kv) => (kv === 'f32' || kv === 'f16' || kv === 'q8' ? (kv as KVDtype) : undefined))(
  new URLSearchParams(location.search).get('kv'),
);

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
  const settings = new SettingsForm(byId('settings'), (values) => {
    memory.saveSettings(values);
    if (loaded) memory.saveSettingsFor(loaded.url, values);
  });
  const cache = new CachePanel(byId('cache-panel'), engine);
  const documents = new DocumentsPanel(byId('documents-panel'), engine, (text) => void ask(text));
  const chat = new ChatView(
    byId('chat'),
    (text) => void ask(text),
    () => session.stop(),
    () => newChat(),
  );
  const picker = new ModelPicker(
    byId('model-picker'),
    index,
    (choice) => void load(choice),
    () => loading?.abort(),
  );

  /** The model that loaded last (null when none is, or the last load failed with none to go back to). */
  let loaded: ModelChoice | null = null;
  /** Aborts the load in progress (Stop loading). */
  let loading: AbortController | null = null;
  /** URL of the model the conversation on screen was held with (null: no conversation yet). */
  let conversationModel: string | null = null;

  const rememberedSettings = memory.settings();
  if (rememberedSettings) settings.restore(rememberedSettings);
  // `?model=` names what to load (and loads it); without it, the last model that loaded comes back.
  const asked = new URLSearchParams(location.search).has('model');
  const remembered = asked ? null : memory.model();
  const first = asked ? picker.choice() : (remembered?.choice ?? null);
  if (first) {
    picker.show(first);
    showConversationOf(first);
  }
  if (first && (asked || remembered?.autoLoad)) void load(first, asked ? '' : ', the last model used');
  else setState('idle');

  /** The conversation held with `choice` (each model keeps its own), or an empty chat. */
  function showConversationOf(choice: ModelChoice): void {
    session.reset();
    chat.clear();
    const saved = memory.conversation(choice.url);
    if (saved && saved.turns.length > 0) {
      session.restore(saved.turns);
      chat.restore(saved.turns);
    }
    conversationModel = choice.url;
  }

  /** Loads `choice` into the engine (progress in the picker); then the chat and cache panel are live. */
  async function open(choice: ModelChoice, status: string, signal?: AbortSignal): Promise<void> {
    picker.progress.reset();
    picker.setStatus(status);
    const info = await engine.load(choice.url, {
      contextLength: CONTEXT_LENGTH,
      kvDtype: KV_DTYPE,
      onProgress: (p) => picker.progress.update(p),
      onWarning: (w) => cache.warn(w),
      signal,
    });
    loaded = choice;
    settings.limitTo(info.contextLength);
    picker.setStatus(`${choice.label} · ${info.adapter} · context ${info.contextLength}`);
    cache.attach(choice.label.replace(/[^\w.-]+/g, '_'));
    documents.setEnabled(true);
    await cache.refresh();
    chat.setMode('idle');
    setState('ready');
  }

  /** `why`: said after the model's name while it loads (e.g. ", the last model used"). */
  async function load(choice: ModelChoice, why = ''): Promise<void> {
    const previous = loaded;
    const controller = new AbortController();
    loading = controller;
    setState('loading');
    picker.setBusy(true);
    picker.setLoading(true);
    chat.setMode('disabled');
    cache.setEnabled(false);
    documents.setEnabled(false);
    try {
      await open(choice, `Loading ${choice.label}${why}…`, controller.signal);
      memory.saveModel({ choice, autoLoad: true });
      // Another model: its own conversation (empty the first time).
      if (conversationModel !== choice.url) showConversationOf(choice);
      // Its own settings when it was used before; else it takes those on screen. Never defaults.
      const own = memory.settingsFor(choice.url);
      if (own) {
        settings.restore(own);
        memory.saveSettings(own);
      } else memory.saveSettingsFor(choice.url, settings.values());
      settings.setModel(choice.label);
    } catch (e) {
      loaded = null;
      const stopped = controller.signal.aborted;
      picker.progress.fail(stopped);
      picker.setStatus('');
      if (stopped) {
        // Stopped: the next visit does not load this model by itself (Load does, and turns that back on).
        const m = memory.model();
        if (m && m.choice.url === choice.url) memory.saveModel({ ...m, autoLoad: false });
      } else {
        const { code, message } = describeError(e);
        picker.showError(code, message);
      }
      // The engine let go of the working model to load this one: load it again, conversation kept.
      const back = previous && previous.url !== choice.url ? previous : null;
      const restored =
        back !== null &&
        (await open(back, `Going back to ${back.label}…`).then(
          () => true,
          () => false,
        ));
      if (restored && back) picker.show(back);
      else {
        picker.setStatus(stopped ? 'Loading stopped: press Load to load a model.' : '');
        await cache.refresh();
        setState(stopped ? 'idle' : 'load-error');
      }
    } finally {
      loading = null;
      picker.setLoading(false);
      picker.setBusy(false);
      countDone('loads');
    }
  }

  function newChat(): void {
    session.reset();
    chat.clear();
    chat.setMode(loaded ? 'idle' : 'disabled');
    const of = loaded?.url ?? conversationModel;
    if (of) memory.forgetConversation(of);
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
      await documents.showAnswer(answer.usage?.entry_ids ?? []);
    } catch (e) {
      const { code, message: why } = describeError(e);
      message.fail(code, why);
    } finally {
      if (loaded) memory.saveConversation({ modelUrl: loaded.url, turns: [...session.history] });
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
