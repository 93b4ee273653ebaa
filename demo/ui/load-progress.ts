/**
 * The load progress bar, in bytes, by phase: the download (fetch events) fills it to 85%, placing the
 * weights on the GPU (upload events) to 95%; then the engine compiles its shaders (no byte count: the
 * bar waits at 95% and says so) until 'ready' sets 100%. The text names the phase, the bytes
 * ("0.52 MB / 1.10 MB"), the percent and the time since the load started, ticking while it runs.
 */
import type { LoadProgress } from '../../src/client/index.ts';
import { el, formatMB } from './dom.ts';

const FETCH_END = 0.85;
const UPLOAD_END = 0.95;
const TICK_MS = 500;

export class LoadProgressView {
  readonly root: HTMLElement;
  private readonly bar: HTMLProgressElement;
  private readonly label: HTMLElement;
  private percent = 0;
  private phase = '';
  private started = 0;
  private ticker: ReturnType<typeof setInterval> | undefined;

  constructor() {
    this.bar = el('progress', { testid: 'load-progress', attrs: { max: '100', value: '0' } });
    this.label = el('span', { class: 'progress-label', testid: 'load-progress-label' });
    this.root = el('div', { class: 'load-progress', attrs: { hidden: '' } }, [this.bar, this.label]);
  }

  reset(): void {
    this.root.hidden = false;
    this.percent = 0;
    this.started = performance.now();
    clearInterval(this.ticker);
    this.ticker = setInterval(() => this.render(), TICK_MS);
    this.set(0, 'Starting…', 'start');
  }

  update(p: LoadProgress): void {
    if (p.kind === 'ready') {
      clearInterval(this.ticker);
      this.set(
        100,
        `Ready: ${formatMB(p.totalBytes)} / ${formatMB(p.totalBytes)} (100%) in ${this.elapsed()}`,
        'ready',
      );
      this.label.textContent = this.phase; // final: no ticking suffix
      return;
    }
    const fraction = p.totalBytes > 0 ? Math.min(1, p.loadedBytes / p.totalBytes) : 1;
    if (p.kind === 'upload' && fraction === 1) {
      this.set(
        Math.floor(UPLOAD_END * 100),
        `Compiling shaders (${Math.floor(UPLOAD_END * 100)}%)`,
        'compile',
      );
      return;
    }
    const overall =
      p.kind === 'fetch' ? fraction * FETCH_END : FETCH_END + fraction * (UPLOAD_END - FETCH_END);
    // Never move backwards (a phase's first event may say less than the previous phase's last).
    const percent = Math.max(this.percent, Math.floor(overall * 100));
    const name = p.kind === 'fetch' ? 'Downloading' : 'Placing on the GPU';
    this.set(
      percent,
      `${name}: ${formatMB(p.loadedBytes)} / ${formatMB(p.totalBytes)} (${percent}%)`,
      p.kind,
    );
  }

  /** Load failed or was stopped: keep the bar where it stopped. */
  fail(stopped = false): void {
    clearInterval(this.ticker);
    this.label.textContent = `${stopped ? 'Stopped' : 'Failed'} at ${this.percent}% after ${this.elapsed()}`;
    this.root.dataset.failed = 'true';
  }

  private set(percent: number, phase: string, name: string): void {
    this.percent = percent;
    this.phase = phase;
    this.bar.value = percent;
    this.bar.dataset.percent = String(percent);
    this.root.dataset.phase = name;
    delete this.root.dataset.failed;
    this.render();
  }

  private render(): void {
    this.label.textContent = `${this.phase} · ${this.elapsed()}`;
  }

  private elapsed(): string {
    return `${((performance.now() - this.started) / 1000).toFixed(1)} s`;
  }
}
