/**
 * Model choice: a select of the dev server's local models (folders and .gguf files) plus "Hub id,
 * URL or path", whose value goes in the text field next to it; a Load button, and a Stop button while
 * a model loads; the load progress and the load error. Offline, a visible note says why hub models
 * will not load.
 */
import {
  initialSelection,
  localChoice,
  type ModelChoice,
  type ModelIndex,
  resolveModelUrl,
} from '../models.ts';
import { el } from './dom.ts';
import { LoadProgressView } from './load-progress.ts';

const HF_OPTION = '__hf__';

export class ModelPicker {
  readonly progress = new LoadProgressView();
  private readonly select: HTMLSelectElement;
  private readonly hfInput: HTMLInputElement;
  private readonly button: HTMLButtonElement;
  private readonly stop: HTMLButtonElement;
  private readonly status: HTMLElement;
  private readonly error: HTMLElement;

  constructor(
    host: HTMLElement,
    index: ModelIndex,
    private readonly onLoad: (choice: ModelChoice) => void,
    onStop: () => void,
  ) {
    this.select = el('select', { testid: 'model-select', attrs: { id: 'model-select' } });
    if (index.models.length > 0) {
      const group = el('optgroup', { attrs: { label: 'On this server' } });
      for (const name of index.models) group.append(el('option', { text: name, attrs: { value: name } }));
      this.select.append(group);
    }
    this.select.append(el('option', { text: 'Hub id, URL or path…', attrs: { value: HF_OPTION } }));
    this.hfInput = el('input', {
      testid: 'hf-model-input',
      attrs: {
        type: 'text',
        spellcheck: 'false',
        'aria-label':
          'Model: a Hugging Face id (owner/name or owner/name/file.gguf), a URL, or a path on this server (/models/…, a folder or a .gguf file)',
        placeholder: 'owner/model, owner/model/file.gguf, https://… or /models/…',
      },
    });
    this.button = el('button', { testid: 'load-button', text: 'Load', attrs: { type: 'submit' } });
    this.stop = el('button', {
      testid: 'load-stop',
      class: 'secondary',
      text: 'Stop loading',
      attrs: { type: 'button', hidden: '' },
    });
    this.stop.addEventListener('click', () => onStop());
    this.status = el('span', {
      class: 'load-status',
      testid: 'load-status',
      attrs: { 'aria-live': 'polite' },
    });
    this.error = el('div', { class: 'error', testid: 'load-error', attrs: { role: 'alert', hidden: '' } });

    const start = initialSelection(index, new URLSearchParams(location.search).get('model'));
    this.select.value = start.local ?? HF_OPTION;
    this.hfInput.value = start.hfInput;
    if (start.note) this.setStatus(start.note);
    const offline = el('p', {
      class: 'offline-note',
      testid: 'offline-note',
      text: 'Offline: the server found no network, so Hugging Face ids and remote URLs will not load. The models on this server do.',
      attrs: index.network ? { hidden: '' } : {},
    });
    this.syncInput();
    this.select.addEventListener('change', () => this.syncInput());

    const form = el('form', { class: 'model-form' }, [
      el('label', { text: 'Model', attrs: { for: 'model-select' } }),
      this.select,
      this.hfInput,
      this.button,
      this.stop,
      this.status,
    ]);
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      this.submit();
    });
    host.replaceChildren(form, offline, this.progress.root, this.error);
  }

  /** Disable the controls while a model loads or an answer is being written. */
  setBusy(busy: boolean): void {
    this.button.disabled = busy;
    this.select.disabled = busy;
    this.hfInput.disabled = busy || this.select.value !== HF_OPTION;
  }

  /** While a model loads, Stop loading shows (and Load hides). */
  setLoading(loading: boolean): void {
    this.stop.hidden = !loading;
    this.stop.disabled = !loading;
    this.button.hidden = loading;
  }

  /** Show `choice` as the selection (e.g. the model gone back to after a failed load). */
  show(choice: ModelChoice): void {
    if (choice.source === 'local' && [...this.select.options].some((o) => o.value === choice.label)) {
      this.select.value = choice.label;
    } else {
      this.select.value = HF_OPTION;
      this.hfInput.value = choice.label;
    }
    this.syncInput();
  }

  setStatus(text: string): void {
    this.status.textContent = text;
  }

  showError(code: string | null, message: string): void {
    this.error.replaceChildren(
      el('strong', { text: code ? `Could not load the model (${code})` : 'Could not load the model' }),
      el('span', { text: message }),
    );
    this.error.dataset.code = code ?? '';
    this.error.hidden = false;
  }

  clearError(): void {
    this.error.hidden = true;
    this.error.replaceChildren();
  }

  private syncInput(): void {
    this.hfInput.disabled = this.select.value !== HF_OPTION;
  }

  /** The model the controls name now, or null when the text field holds neither an id nor a URL. */
  choice(): ModelChoice | null {
    if (this.select.value !== HF_OPTION) return localChoice(this.select.value);
    const url = resolveModelUrl(this.hfInput.value);
    return url ? { source: 'hf', url, label: this.hfInput.value.trim() } : null;
  }

  private submit(): void {
    this.clearError();
    const choice = this.choice();
    if (!choice) {
      this.showError(
        null,
        'Give a Hugging Face model id like HuggingFaceTB/SmolLM2-135M-Instruct, a URL, or a path on this server like /models/name.',
      );
      return;
    }
    this.onLoad(choice);
  }
}
