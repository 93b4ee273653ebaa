/**
 * Request settings: the system prompt, answer length, temperature (0 = greedy), the KV reuse mode,
 * and whether earlier turns are sent with each question.
 */
import type { ReuseMode } from '../../src/client/index.ts';
import type { SettingsValues } from '../memory.ts';
import { el } from './dom.ts';

export interface ChatSettings {
  /** Sent first in every conversation when not empty (each chat then starts with the same tokens). */
  systemPrompt: string;
  maxTokens: number;
  temperature: number;
  reuseMode: ReuseMode;
  /** Send the whole conversation (true) or only the latest question (false). */
  history: boolean;
}

/** Above this, sampling is noise; the field refuses it. */
export const MAX_TEMPERATURE = 2;

/** Why these values cannot be used for a request (null: they can). Nothing is silently replaced. */
export function settingsProblem(
  maxTokens: number,
  temperature: number,
  contextLength: number,
): string | null {
  if (!Number.isInteger(maxTokens) || maxTokens < 1 || maxTokens > contextLength) {
    return `Max new tokens must be a whole number from 1 to ${contextLength} (the model's context length).`;
  }
  if (!Number.isFinite(temperature) || temperature < 0 || temperature > MAX_TEMPERATURE) {
    return `Temperature must be from 0 (greedy) to ${MAX_TEMPERATURE}.`;
  }
  return null;
}

const MODES: { value: ReuseMode; label: string }[] = [
  { value: 'kvshare', label: 'kvshare (reuse similar prompts)' },
  { value: 'prefix', label: 'prefix (exact prefix only)' },
  { value: 'naive', label: 'naive (reuse all matches)' },
  { value: 'none', label: 'none (compute everything)' },
];

export class SettingsForm {
  private readonly systemPrompt: HTMLTextAreaElement;
  private readonly maxTokens: HTMLInputElement;
  private readonly temperature: HTMLInputElement;
  private readonly mode: HTMLSelectElement;
  private readonly history: HTMLInputElement;
  private readonly problem: HTMLElement;
  private contextLength = 1024;

  /** `onChange` is called with the form's values after every edit (the demo remembers them). */
  constructor(host: HTMLElement, onChange: (values: SettingsValues) => void) {
    this.systemPrompt = el('textarea', {
      testid: 'system-prompt',
      attrs: { id: 'system-prompt', rows: '2', placeholder: 'none' },
    });
    this.maxTokens = el('input', {
      testid: 'max-tokens',
      attrs: {
        id: 'max-tokens',
        type: 'number',
        min: '1',
        max: String(this.contextLength),
        step: '1',
        value: '32',
      },
    });
    this.temperature = el('input', {
      testid: 'temperature',
      attrs: {
        id: 'temperature',
        type: 'number',
        min: '0',
        max: String(MAX_TEMPERATURE),
        step: '0.1',
        value: '0',
      },
    });
    this.mode = el('select', { testid: 'reuse-mode', attrs: { id: 'reuse-mode' } });
    for (const m of MODES) this.mode.append(el('option', { text: m.label, attrs: { value: m.value } }));
    this.history = el('input', {
      testid: 'history-toggle',
      attrs: { id: 'history-toggle', type: 'checkbox' },
    });
    this.problem = el('p', {
      class: 'error',
      testid: 'settings-error',
      attrs: { role: 'alert', hidden: '' },
    });
    const row = (label: string, id: string, input: HTMLElement) =>
      el('div', { class: 'setting' }, [el('label', { text: label, attrs: { for: id } }), input]);
    host.replaceChildren(
      el('h2', { text: 'Settings' }),
      row('System prompt', 'system-prompt', this.systemPrompt),
      row('Max new tokens', 'max-tokens', this.maxTokens),
      row('Temperature (0 = greedy)', 'temperature', this.temperature),
      row('KV reuse', 'reuse-mode', this.mode),
      el('div', { class: 'setting checkbox' }, [
        this.history,
        el('label', { text: 'Send earlier turns too', attrs: { for: 'history-toggle' } }),
      ]),
      this.problem,
    );
    for (const type of ['input', 'change']) host.addEventListener(type, () => onChange(this.values()));
  }

  /** The fields as typed. */
  values(): SettingsValues {
    return {
      systemPrompt: this.systemPrompt.value,
      maxTokens: this.maxTokens.value,
      temperature: this.temperature.value,
      reuseMode: this.mode.value as ReuseMode,
      history: this.history.checked,
    };
  }

  /** Put remembered values back in the fields (checked again when a request is sent). */
  restore(v: SettingsValues): void {
    this.systemPrompt.value = v.systemPrompt;
    this.maxTokens.value = v.maxTokens;
    this.temperature.value = v.temperature;
    this.mode.value = v.reuseMode;
    this.history.checked = v.history;
  }

  /**
   * Defaults for a newly loaded model. Hugging Face models here are chat models: they get the
   * conversation and room to answer. The local ones are tiny story models, asked one prompt at a time
   * with short answers (a cache entry holds prompt and answer, so a long answer dilutes how similar
   * the entry looks to the next prompt).
   */
  useDefaultsFor(source: 'local' | 'hf'): void {
    this.history.checked = source === 'hf';
    this.maxTokens.value = source === 'hf' ? '128' : '32';
  }

  /** The loaded model's context length: the most max new tokens can be. */
  limitTo(contextLength: number): void {
    this.contextLength = contextLength;
    this.maxTokens.max = String(contextLength);
  }

  /** The settings of the next request, or null when a value is out of range (said under the form). */
  read(): ChatSettings | null {
    const maxTokens = this.maxTokens.valueAsNumber;
    const temperature = this.temperature.valueAsNumber;
    const problem = settingsProblem(maxTokens, temperature, this.contextLength);
    this.problem.textContent = problem ?? '';
    this.problem.hidden = problem === null;
    if (problem !== null) return null;
    return {
      systemPrompt: this.systemPrompt.value.trim(),
      maxTokens,
      temperature,
      reuseMode: this.mode.value as ReuseMode,
      history: this.history.checked,
    };
  }
}
