/**
 * What the demo remembers between visits (localStorage): the last model that loaded and whether to
 * load it by itself, the settings form (as last edited, and per model), and each model's
 * conversation. Everything read back is checked field by field; anything malformed (an older format,
 * a hand edit) is dropped, never trusted.
 */
import type { FinishReason, ReuseMode } from '../src/client/index.ts';
import type { ModelChoice } from './models.ts';

const KEY = {
  model: 'kvshare-demo:model',
  settings: 'kvshare-demo:settings',
  /** + the model's URL: that model's settings. */
  modelSettings: 'kvshare-demo:settings:',
  /** + the model's URL: that model's conversation. */
  conversation: 'kvshare-demo:conversation:',
} as const;

/** The last model that loaded, and whether the next visit loads it without a click. */
export interface RememberedModel {
  choice: ModelChoice;
  autoLoad: boolean;
}

/** The settings form as typed (numbers as the fields hold them: the form validates on send). */
export interface SettingsValues {
  systemPrompt: string;
  maxTokens: string;
  temperature: string;
  reuseMode: ReuseMode;
  history: boolean;
}

export type SavedTurn =
  | { role: 'user'; content: string }
  | { role: 'assistant'; content: string; finishReason: FinishReason };

/** The conversation on screen and the model it was held with (URL of ModelChoice). */
export interface SavedConversation {
  modelUrl: string;
  turns: SavedTurn[];
}

/** Keep at most this many turns (the oldest go first): localStorage holds about 5 MB per site. */
const MAX_TURNS = 200;

const REUSE_MODES: readonly string[] = ['none', 'prefix', 'naive', 'kvshare'];
const FINISH: readonly string[] = ['stop', 'length', 'abort'];

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const isString = (v: unknown): v is string => typeof v === 'string';

function read<T>(key: string, check: (v: unknown) => T | null): T | null {
  let raw: string | null;
  try {
    raw = localStorage.getItem(key);
  } catch {
    return null; // storage blocked (e.g. some private modes): nothing remembered
  }
  if (raw === null) return null;
  let value: T | null = null;
  try {
    value = check(JSON.parse(raw));
  } catch {
    value = null;
  }
  if (value === null) forget(key);
  return value;
}

function write(key: string, value: unknown): void {
  try {
    localStorage.setItem(key, JSON.stringify(value));
  } catch {
    // Full or blocked: the demo works without remembering.
  }
}

function forget(key: string): void {
  try {
    localStorage.removeItem(key);
  } catch {
    // blocked: nothing to forget
  }
}

function checkModel(v: unknown): RememberedModel | null {
  if (!isObject(v) || !isObject(v.choice) || typeof v.autoLoad !== 'boolean') return null;
  const { source, url, label } = v.choice;
  if ((source !== 'local' && source !== 'hf') || !isString(url) || !isString(label)) return null;
  if (!/^https?:\/\//i.test(url)) return null;
  return { choice: { source, url, label }, autoLoad: v.autoLoad };
}

function checkSettings(v: unknown): SettingsValues | null {
  if (!isObject(v)) return null;
  const { systemPrompt, maxTokens, temperature, reuseMode, history } = v;
  if (!isString(systemPrompt) || !isString(maxTokens) || !isString(temperature)) return null;
  if (!isString(reuseMode) || !REUSE_MODES.includes(reuseMode) || typeof history !== 'boolean') return null;
  return { systemPrompt, maxTokens, temperature, reuseMode: reuseMode as ReuseMode, history };
}

function checkTurn(v: unknown): SavedTurn | null {
  if (!isObject(v) || !isString(v.content)) return null;
  if (v.role === 'user') return { role: 'user', content: v.content };
  if (v.role === 'assistant' && isString(v.finishReason) && FINISH.includes(v.finishReason)) {
    return { role: 'assistant', content: v.content, finishReason: v.finishReason as FinishReason };
  }
  return null;
}

function checkConversation(v: unknown): SavedConversation | null {
  if (!isObject(v) || !isString(v.modelUrl) || !Array.isArray(v.turns)) return null;
  const turns = v.turns.map(checkTurn);
  if (turns.some((t) => t === null)) return null;
  return { modelUrl: v.modelUrl, turns: turns as SavedTurn[] };
}

export const memory = {
  model: (): RememberedModel | null => read(KEY.model, checkModel),
  saveModel: (m: RememberedModel): void => write(KEY.model, m),
  /** The settings form as last edited (whatever model was loaded). */
  settings: (): SettingsValues | null => read(KEY.settings, checkSettings),
  saveSettings: (s: SettingsValues): void => write(KEY.settings, s),
  /** The settings last used with the model at `modelUrl` (null: never loaded here). */
  settingsFor: (modelUrl: string): SettingsValues | null => read(KEY.modelSettings + modelUrl, checkSettings),
  saveSettingsFor: (modelUrl: string, s: SettingsValues): void => write(KEY.modelSettings + modelUrl, s),
  /** The conversation held with the model at `modelUrl` (each model keeps its own). */
  conversation: (modelUrl: string): SavedConversation | null => {
    const c = read(KEY.conversation + modelUrl, checkConversation);
    return c !== null && c.modelUrl === modelUrl ? c : null;
  },
  saveConversation: (c: SavedConversation): void =>
    write(KEY.conversation + c.modelUrl, { modelUrl: c.modelUrl, turns: c.turns.slice(-MAX_TURNS) }),
  forgetConversation: (modelUrl: string): void => forget(KEY.conversation + modelUrl),
};
