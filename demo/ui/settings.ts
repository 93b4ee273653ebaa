/**
 * Request settings: the system prompt, answer length, temperature (0 = greedy), the KV reuse mode,
 * and whether earlier turns are sent with each question.
 */
import type { ReuseMode } from '../../src/client/index.ts';
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

  constructor(host: HTMLElement) {
    this.systemPrompt = el('textarea', {
      testid: 'system-prompt',
      attrs: { id: 'system-prompt', rows: '2', placeholder: 'none' },
    });
    this.maxTokens = el('input', {
      testid: 'max-tokens',
      attrs: { id: 'max-tokens', type: 'number', min: '1', max: '1024', step: '1', value: '32' },
    });
    this.temperature = el('input', {
      testid: 'temperature',
      attrs: { id: 'temperature', type: 'number', min: '0', max: '2', step: '0.1', value: '0' },
    });
    this.mode = el('select', { testid: 'reuse-mode', attrs: { id: 'reuse-mode' } });
    for (const m of MODES) this.mode.append(el('option', { text: m.label, attrs: { value: m.value } }));
    this.history = el('input', {
      testid: 'history-toggle',
      attrs: { id: 'history-toggle', type: 'checkbox' },
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
    );
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

  read(): ChatSettings {
    const maxTokens = Math.round(this.maxTokens.valueAsNumber);
    const temperature = this.temperature.valueAsNumber;
    return {
      systemPrompt: this.systemPrompt.value.trim(),
      maxTokens: Number.isFinite(maxTokens) && maxTokens > 0 ? Math.min(maxTokens, 1024) : 32,
      temperature: Number.isFinite(temperature) && temperature >= 0 ? temperature : 0,
      reuseMode: this.mode.value as ReuseMode,
      history: this.history.checked,
    };
  }
}
