/**
 * The KV cache of the loaded model: entries, bytes, hit rate, how K/V are stored (dtype, bytes per
 * token, the live cache and the hot tier on the GPU), whether it persists (IndexedDB), and
 * Clear / Export pack (a .kvpack download, also kept in memory) / Import pack (a file, or the last
 * export). `refresh()` after every answer. Hit rate and tokens reused count from the model's load or
 * the last Clear, whichever came later.
 */
import type { CacheStats, EngineApi, EngineWarning } from '../../src/client/index.ts';
import { describeError, el, formatBytes } from './dom.ts';

type Counters = Pick<CacheStats, 'hits' | 'misses' | 'reusedTokens'>;

export class CachePanel {
  private readonly stats: HTMLElement;
  private readonly status: HTMLElement;
  private readonly warnings: HTMLUListElement;
  private readonly buttons: HTMLButtonElement[];
  private readonly fileInput: HTMLInputElement;
  private readonly importLabel: HTMLLabelElement;
  private readonly importLast: HTMLButtonElement;
  /** The last exported pack, kept so it can be imported again without the file. */
  private lastPack: Uint8Array<ArrayBuffer> | null = null;
  private modelName = 'model';
  private enabled = false;
  /** The engine's counters at the last Clear (they run from the load): what the figures start from. */
  private since: Counters = { hits: 0, misses: 0, reusedTokens: 0 };

  constructor(
    host: HTMLElement,
    private readonly engine: EngineApi,
  ) {
    this.stats = el('dl', { class: 'cache-stats', testid: 'cache-stats' });
    this.status = el('p', {
      class: 'cache-status',
      testid: 'cache-status',
      attrs: { 'aria-live': 'polite' },
    });
    this.warnings = el('ul', { class: 'cache-warnings', testid: 'cache-warnings' });
    const clear = el('button', {
      testid: 'cache-clear',
      class: 'secondary',
      text: 'Clear',
      attrs: { type: 'button' },
    });
    const exportButton = el('button', {
      testid: 'cache-export',
      class: 'secondary',
      text: 'Export pack',
      attrs: { type: 'button' },
    });
    this.fileInput = el('input', {
      testid: 'cache-import',
      class: 'visually-hidden',
      attrs: { id: 'cache-import', type: 'file', accept: '.kvpack,application/octet-stream' },
    });
    this.importLabel = el('label', {
      testid: 'cache-import-label',
      class: 'button secondary',
      text: 'Import pack…',
      attrs: { for: 'cache-import' },
    });
    this.importLast = el('button', {
      testid: 'cache-import-last',
      class: 'secondary',
      text: 'Import last export',
      attrs: { type: 'button' },
    });
    this.buttons = [clear, exportButton, this.importLast];

    clear.addEventListener('click', () => {
      const entries = this.stats.dataset.entries ?? '0';
      if (!window.confirm(`Clear the ${entries} cached entries of ${this.modelName} (also from IndexedDB)?`))
        return;
      void this.run(() => this.clear());
    });
    exportButton.addEventListener('click', () => this.run(() => this.exportPack()));
    this.fileInput.addEventListener('change', () => {
      const file = this.fileInput.files?.[0];
      this.fileInput.value = '';
      if (file) this.run(() => this.importPack(file, file.name));
    });
    this.importLast.addEventListener('click', () => {
      if (this.lastPack) this.run(() => this.importPack(this.lastPack!, 'the last export'));
    });

    host.replaceChildren(
      el('h2', { text: 'KV cache' }),
      this.stats,
      el('div', { class: 'cache-buttons' }, [
        clear,
        exportButton,
        this.importLabel,
        this.fileInput,
        this.importLast,
      ]),
      this.status,
      this.warnings,
    );
    this.setEnabled(false);
    this.render(null);
  }

  /** Buttons work only with a model loaded (entries belong to a model). */
  setEnabled(on: boolean, modelName?: string): void {
    this.enabled = on;
    if (modelName) this.modelName = modelName;
    for (const b of this.buttons) b.disabled = !on;
    this.importLast.disabled = !on || this.lastPack === null;
    this.fileInput.disabled = !on;
    // The label stands in for the hidden file input: it looks and reads as disabled with it.
    this.importLabel.setAttribute('aria-disabled', String(!on));
  }

  /** A model was loaded: its cache starts counting from zero. */
  attach(modelName: string): void {
    this.since = { hits: 0, misses: 0, reusedTokens: 0 };
    this.setEnabled(true, modelName);
  }

  /** A storage warning from the engine (e.g. IndexedDB unavailable: the cache is memory-only). */
  warn(w: EngineWarning): void {
    this.warnings.append(el('li', { text: `${w.kind}: ${w.message}` }));
    while (this.warnings.children.length > 5) this.warnings.firstElementChild?.remove();
  }

  async refresh(): Promise<void> {
    if (!this.enabled) return this.render(null);
    try {
      this.render(await this.engine.cache.stats());
    } catch (e) {
      const { code, message } = describeError(e);
      this.status.textContent = `Could not read the cache: ${code ? `${code}: ` : ''}${message}`;
    }
  }

  private render(stats: CacheStats | null): void {
    const s = stats && {
      ...stats,
      hits: stats.hits - this.since.hits,
      misses: stats.misses - this.since.misses,
      reusedTokens: stats.reusedTokens - this.since.reusedTokens,
    };
    const lookups = s ? s.hits + s.misses : 0;
    const rows: [string, string][] = s
      ? [
          ['Entries', String(s.entries)],
          ['Size', `${formatBytes(s.bytes)} of ${formatBytes(s.budgetBytes)}`],
          [
            'Hit rate',
            lookups > 0 ? `${Math.round((100 * s.hits) / lookups)}% (${s.hits} of ${lookups})` : '—',
          ],
          ['Tokens reused', String(s.reusedTokens)],
          ['K/V storage', `${s.kvDtype}, ${formatBytes(s.kvBytesPerToken)} per token`],
          [
            'GPU',
            `live ${formatBytes(s.gpuLiveBytes)} · hot tier ${s.gpuEntries} (${formatBytes(s.gpuBytes)} of ${formatBytes(s.gpuBudgetBytes)})`,
          ],
          [
            'Persistent',
            s.persistent ? `yes (IndexedDB: ${s.persistedEntries}, ${formatBytes(s.persistedBytes)})` : 'no',
          ],
        ]
      : [['Entries', '— (no model loaded)']];
    this.stats.replaceChildren(...rows.flatMap(([k, v]) => [el('dt', { text: k }), el('dd', { text: v })]));
    this.stats.dataset.entries = String(s?.entries ?? 0);
    this.stats.dataset.persistedEntries = String(s?.persistedEntries ?? 0);
    this.stats.dataset.persistent = String(s?.persistent ?? false);
    this.stats.dataset.hits = String(s?.hits ?? 0);
    this.stats.dataset.kvDtype = s?.kvDtype ?? '';
    this.stats.dataset.kvBytesPerToken = String(s?.kvBytesPerToken ?? 0);
  }

  private async clear(): Promise<string> {
    await this.engine.cache.clear();
    const { hits, misses, reusedTokens } = await this.engine.cache.stats();
    this.since = { hits, misses, reusedTokens };
    return 'Cleared every entry of this model, and the hit rate.';
  }

  private async exportPack(): Promise<string> {
    const pack = await this.engine.cache.exportPack();
    this.lastPack = pack;
    const url = URL.createObjectURL(new Blob([pack], { type: 'application/octet-stream' }));
    const link = el('a', { attrs: { href: url, download: `${this.modelName}-${Date.now()}.kvpack` } });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 30_000);
    return `Exported a pack of ${formatBytes(pack.byteLength)}.`;
  }

  private async importPack(pack: Blob | Uint8Array, from: string): Promise<string> {
    const { ids } = await this.engine.cache.importPack(pack);
    return `Imported ${ids.length} ${ids.length === 1 ? 'entry' : 'entries'} from ${from}.`;
  }

  /**
   * Runs a cache action with the buttons off, refreshes the figures, then says how it went (the
   * status line changes last, so whoever reads it reads fresh figures too).
   */
  private async run(action: () => Promise<string>): Promise<void> {
    this.setEnabled(false);
    this.status.textContent = 'Working…';
    delete this.status.dataset.error;
    let outcome: string;
    let failed = false;
    try {
      outcome = await action();
    } catch (e) {
      const { code, message } = describeError(e);
      outcome = code ? `${code}: ${message}` : message;
      failed = true;
    }
    this.setEnabled(true);
    await this.refresh();
    this.status.textContent = outcome;
    if (failed) this.status.dataset.error = 'true';
  }
}
