/**
 * Request settings: the system prompt, answer length, temperature (0 = greedy), the KV reuse mode,
 * and whether earlier turns are sent with each question. Checked as they are typed (the reason shows
 * under the form and goes when the value is fixed); kept per model by the demo (main.ts), never
 * replaced by defaults on a load.
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
  private readonly owner: HTMLElement;
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
    this.owner = el('p', { class: 'settings-owner', testid: 'settings-model', attrs: { hidden: '' } });
    const row = (label: string, id: string, input: HTMLElement) =>
      el('div', { class: 'setting' }, [el('label', { text: label, attrs: { for: id } }), input]);
    host.replaceChildren(
      el('h2', { text: 'Settings' }),
      this.owner,
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
    for (const type of ['input', 'change']) {
      host.addEventListener(type, () => {
        this.check();
        onChange(this.values());
      });
    }
  }

  /** Says whose settings these are (kept per model): `label` of the loaded model. */
  setModel(label: string): void {
    this.owner.textContent = `Kept for ${label}`;
    this.owner.hidden = false;
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

  /** Put remembered values back in the fields, as they were (a value out of range is said, not fixed). */
  restore(v: SettingsValues): void {
    this.systemPrompt.value = v.systemPrompt;
    this.maxTokens.value = v.maxTokens;
    this.temperature.value = v.temperature;
    this.mode.value = v.reuseMode;
    this.history.checked = v.history;
    this.check();
  }

  /** The loaded model's context length: the most max new tokens can be. */
  limitTo(contextLength: number): void {
    this.contextLength = contextLength;
    this.maxTokens.max = String(contextLength);
    this.check();
  }

  /** Shows why the values cannot be used (or hides the reason once they can); the reason, or null. */
  private check(): string | null {
    const problem = settingsProblem(
      this.maxTokens.valueAsNumber,
      this.temperature.valueAsNumber,
      this.contextLength,
    );
    this.problem.textContent = problem ?? '';
    this.problem.hidden = problem === null;
    this.maxTokens.setAttribute('aria-invalid', String(problem?.startsWith('Max') ?? false));
    this.temperature.setAttribute('aria-invalid', String(problem?.startsWith('Temperature') ?? false));
    return problem;
  }

  /** The settings of the next request, or null when a value is out of range (said under the form). */
  read(): ChatSettings | null {
    if (this.check() !== null) return null;
    const maxTokens = this.maxTokens.valueAsNumber;
    const temperature = this.temperature.valueAsNumber;
    return {
      systemPrompt: this.systemPrompt.value.trim(),
      maxTokens,
      temperature,
      reuseMode: this.mode.value as ReuseMode,
      history: this.history.checked,
    };
  }
}
