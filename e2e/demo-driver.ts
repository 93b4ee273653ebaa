/**
 * Drives the chat demo (demo/) through its UI and data-testid hooks, for e2e/demo.e2e.test.ts.
 * Every step waits for `#app[data-state]` to settle, so results are read from a quiet page; the slow
 * ones (open, load, ask) are test steps, in the report and on the console as each ends.
 */
import { type Page, test } from '@playwright/test';

export type DemoState = 'checking' | 'no-webgpu' | 'idle' | 'loading' | 'ready' | 'generating' | 'load-error';

export interface AskOptions {
  maxTokens?: number;
  temperature?: number;
  reuseMode?: 'none' | 'prefix' | 'naive' | 'kvshare';
}

export interface BadgeReport {
  text: string;
  reused: number;
  recomputed: number;
  new: number;
  prompt: number;
  ttftMs: number;
  estimatedFullMs: number;
  completion: number;
  finish: string;
}

export interface AnswerReport {
  text: string;
  finish: string | null;
  badge: BadgeReport | null;
  /** data-fate of each reuse-map span, in prompt order. */
  fates: string[];
  /** The reuse map's token pieces, joined. */
  mapText: string;
}

export interface CacheReport {
  entries: number;
  persistedEntries: number;
  persistent: boolean;
  hits: number;
  /** How K/V are stored and their bytes per cached token. */
  kvDtype: string;
  kvBytesPerToken: number;
  text: string;
}

const LONG = 120_000;

export class DemoDriver {
  constructor(readonly page: Page) {}

  /** Opens the demo; resolves once it is idle, or has loaded the remembered model by itself (or failed to). */
  open(origin: string, query = ''): Promise<DemoState> {
    return test.step(`demo: open /${query}`, async () => {
      await this.page.goto(`${origin}/${query}`);
      return this.settled();
    });
  }

  /** After a (re)load of the page: waits until it is idle or done with the load it started by itself. */
  settled(): Promise<DemoState> {
    return this.waitState(['idle', 'no-webgpu', 'ready', 'load-error']);
  }

  async waitState(states: DemoState | DemoState[], timeout = LONG): Promise<DemoState> {
    const wanted = Array.isArray(states) ? states : [states];
    const selector = wanted.map((s) => `#app[data-state="${s}"]`).join(', ');
    await this.page.locator(selector).waitFor({ state: 'attached', timeout });
    return (await this.page.locator('#app').getAttribute('data-state')) as DemoState;
  }

  /** Clicks Load with the model select's current value (or `model`); resolves on ready or load-error. */
  async load(model?: string): Promise<DemoState> {
    if (model) await this.page.getByTestId('model-select').selectOption(model);
    const name = model ?? (await this.page.getByTestId('model-select').inputValue());
    return test.step(`demo: load ${name}`, async () => {
      const done = await this.counter('loads');
      await this.page.getByTestId('load-button').click();
      await this.waitCounter('loads', done + 1);
      return this.waitState(['ready', 'load-error']);
    });
  }

  /** How many loads or answers the page has finished (#app data-loads / data-answers). */
  async counter(what: 'loads' | 'answers'): Promise<number> {
    return Number((await this.page.locator('#app').getAttribute(`data-${what}`)) ?? '0');
  }

  async waitCounter(what: 'loads' | 'answers', atLeast: number, timeout = LONG): Promise<void> {
    await this.page.waitForFunction(
      ([name, n]) => Number(document.getElementById('app')?.getAttribute(`data-${name}`) ?? '0') >= n,
      [what, atLeast] as const,
      { timeout },
    );
  }

  /** Sends `prompt` with these settings and waits for the answer to finish. */
  ask(prompt: string, opts: AskOptions = {}): Promise<AnswerReport> {
    return test.step(`demo: ask "${prompt.slice(0, 40)}"`, async () => {
      await this.setSettings(opts);
      const before = await this.page.getByTestId('message-assistant').count();
      const done = await this.counter('answers');
      await this.send(prompt);
      await this.waitCounter('answers', done + 1);
      const answers = this.page.getByTestId('message-assistant');
      if ((await answers.count()) !== before + 1) throw new Error('the demo did not add exactly one answer');
      return this.readAnswer(before);
    });
  }

  async setSettings(opts: AskOptions): Promise<void> {
    if (opts.maxTokens !== undefined) await this.page.getByTestId('max-tokens').fill(String(opts.maxTokens));
    if (opts.temperature !== undefined)
      await this.page.getByTestId('temperature').fill(String(opts.temperature));
    if (opts.reuseMode !== undefined) await this.page.getByTestId('reuse-mode').selectOption(opts.reuseMode);
  }

  /** Types and sends a prompt without waiting for the answer. */
  async send(prompt: string): Promise<void> {
    await this.page.getByTestId('prompt-input').fill(prompt);
    await this.page.getByTestId('send-button').click();
  }

  async readAnswer(index: number): Promise<AnswerReport> {
    const node = this.page.getByTestId('message-assistant').nth(index);
    const text = (await node.getByTestId('message-text').textContent()) ?? '';
    const badgeNode = node.getByTestId('reuse-badge');
    let badge: BadgeReport | null = null;
    if ((await badgeNode.count()) > 0 && (await badgeNode.getAttribute('data-reused')) !== null) {
      const num = async (name: string) => Number(await badgeNode.getAttribute(name));
      badge = {
        text: (await badgeNode.textContent()) ?? '',
        reused: await num('data-reused'),
        recomputed: await num('data-recomputed'),
        new: await num('data-new'),
        prompt: await num('data-prompt'),
        ttftMs: await num('data-ttft-ms'),
        estimatedFullMs: await num('data-estimated-full-ms'),
        completion: await num('data-completion'),
        finish: (await badgeNode.getAttribute('data-finish')) ?? '',
      };
    }
    const spans = node.locator('[data-testid="reuse-map"] [data-fate]');
    const fates = await spans.evaluateAll((els) => els.map((e) => e.getAttribute('data-fate') ?? ''));
    const mapText = (await spans.allTextContents()).join('');
    return { text, finish: await node.getAttribute('data-finish'), badge, fates, mapText };
  }

  /** The cache panel's figures (its data-* attributes) once fresh. */
  async cache(): Promise<CacheReport> {
    const stats = this.page.getByTestId('cache-stats');
    return {
      entries: Number(await stats.getAttribute('data-entries')),
      persistedEntries: Number(await stats.getAttribute('data-persisted-entries')),
      persistent: (await stats.getAttribute('data-persistent')) === 'true',
      hits: Number(await stats.getAttribute('data-hits')),
      kvDtype: (await stats.getAttribute('data-kv-dtype')) ?? '',
      kvBytesPerToken: Number(await stats.getAttribute('data-kv-bytes-per-token')),
      text: (await stats.textContent()) ?? '',
    };
  }

  /**
   * Clicks a cache button (or sets the import file) and waits for the status line, which the panel
   * writes after refreshing its figures; throws with the status if it does not match `done`.
   */
  /** Clicks the cache panel's Clear and answers its confirmation (accept: clear; else keep). */
  async clearCache(accept = true): Promise<void> {
    this.page.once('dialog', (d) => void (accept ? d.accept() : d.dismiss()));
    await this.page.getByTestId('cache-clear').click();
  }

  async cacheAction(run: () => Promise<void>, done: RegExp): Promise<string> {
    const status = this.page.getByTestId('cache-status');
    await status.evaluate((s) => {
      s.textContent = '';
    });
    await run();
    await this.page.waitForFunction(
      () => {
        const text = document.querySelector('[data-testid="cache-status"]')?.textContent ?? '';
        return text !== '' && text !== 'Working…';
      },
      null,
      { timeout: LONG },
    );
    const text = (await status.textContent()) ?? '';
    if (!done.test(text)) throw new Error(`cache action failed: ${text}`);
    return text;
  }
}
