/**
 * The load progress bar, in bytes: the download (fetch events) fills it to 90%, placing the
 * weights on the GPU (upload events) the last 10%, and 'ready' to 100%. The text names the phase,
 * the bytes ("0.52 MB / 1.10 MB") and the percent.
 */
import type { LoadProgress } from '../../src/client/index.ts';
import { el, formatMB } from './dom.ts';

const FETCH_SHARE = 0.9;

export class LoadProgressView {
  readonly root: HTMLElement;
  private readonly bar: HTMLProgressElement;
  private readonly label: HTMLElement;
  private percent = 0;

  constructor() {
    this.bar = el('progress', { testid: 'load-progress', attrs: { max: '100', value: '0' } });
    this.label = el('span', { class: 'progress-label', testid: 'load-progress-label' });
    this.root = el('div', { class: 'load-progress', attrs: { hidden: '' } }, [this.bar, this.label]);
  }

  reset(): void {
    this.root.hidden = false;
    this.percent = 0;
    this.set(0, 'Starting…');
  }

  update(p: LoadProgress): void {
    if (p.kind === 'ready') {
      this.set(100, `Ready: ${formatMB(p.totalBytes)} / ${formatMB(p.totalBytes)} (100%)`);
      return;
    }
    const fraction = p.totalBytes > 0 ? Math.min(1, p.loadedBytes / p.totalBytes) : 1;
    const overall = p.kind === 'fetch' ? fraction * FETCH_SHARE : FETCH_SHARE + fraction * (1 - FETCH_SHARE);
    // Never move backwards (a phase's first event may say less than the previous phase's last).
    const percent = Math.max(this.percent, Math.floor(overall * 100));
    const phase = p.kind === 'fetch' ? 'Downloading' : 'Placing on the GPU';
    this.set(percent, `${phase}: ${formatMB(p.loadedBytes)} / ${formatMB(p.totalBytes)} (${percent}%)`);
  }

  /** Load failed: keep the bar where it stopped. */
  fail(): void {
    this.label.textContent = `Failed at ${this.percent}%`;
    this.root.dataset.failed = 'true';
  }

  private set(percent: number, text: string): void {
    this.percent = percent;
    this.bar.value = percent;
    this.bar.dataset.percent = String(percent);
    this.label.textContent = text;
    delete this.root.dataset.failed;
  }
}
