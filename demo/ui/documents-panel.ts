/**
 * Documents: mount a KV pack by URL (`engine.cache.mount`: only its index is fetched), pick documents
 * (their texts come from the `.jsonl` beside the pack, as `kvshare pack build` read them), and ask a
 * question over them. After each answer it says which cached entries the prompt reused and what the
 * mounted packs have cost so far (bytes fetched, requests). The sample pack of stories260K is served
 * by `npm start` at /models/packs/ (assets/packs, assets/SOURCES.md).
 */
import type { EngineApi } from '../../src/client/index.ts';
import { describeError, el, formatBytes } from './dom.ts';

export const SAMPLE_PACK_URL = '/models/packs/stories260K-tales.kvpack';

interface Doc {
  id: string;
  text: string;
}

export class DocumentsPanel {
  private readonly url: HTMLInputElement;
  private readonly mountButton: HTMLButtonElement;
  private readonly list: HTMLElement;
  private readonly question: HTMLInputElement;
  private readonly askButton: HTMLButtonElement;
  private readonly status: HTMLElement;
  private readonly reused: HTMLElement;
  private docs: Doc[] = [];

  constructor(
    host: HTMLElement,
    private readonly engine: EngineApi,
    /** Sends a message to the chat (the selected documents, then the question). */
    private readonly ask: (text: string) => void,
  ) {
    this.url = el('input', {
      testid: 'docs-url',
      attrs: { type: 'text', value: SAMPLE_PACK_URL, 'aria-label': 'Pack URL', spellcheck: 'false' },
    });
    this.mountButton = el('button', { testid: 'docs-mount', text: 'Mount', attrs: { type: 'button' } });
    this.list = el('ul', { class: 'docs-list', testid: 'docs-list' });
    this.question = el('input', {
      testid: 'docs-question',
      attrs: { type: 'text', value: 'What happened in the end?', 'aria-label': 'Question' },
    });
    this.askButton = el('button', {
      testid: 'docs-ask',
      text: 'Ask over selected',
      attrs: { type: 'button' },
    });
    this.status = el('p', { class: 'cache-status', testid: 'docs-status', attrs: { 'aria-live': 'polite' } });
    this.reused = el('p', { class: 'docs-reused', testid: 'docs-reused' });
    this.mountButton.addEventListener('click', () => void this.mount());
    this.askButton.addEventListener('click', () => this.askSelected());
    host.replaceChildren(
      el('h2', { text: 'Documents' }),
      el('div', { class: 'docs-mount' }, [this.url, this.mountButton]),
      this.status,
      this.list,
      el('div', { class: 'docs-ask' }, [this.question, this.askButton]),
      this.reused,
    );
    this.setEnabled(false);
  }

  setEnabled(on: boolean): void {
    this.mountButton.disabled = !on;
    this.askButton.disabled = !on || this.docs.length === 0;
  }

  /** After an answer: the entries its prompt reused, and what mounting has fetched so far. */
  async showAnswer(entryIds: string[]): Promise<void> {
    if (this.docs.length === 0) return;
    const s = await this.engine.cache.stats().catch(() => null);
    const fetched = s ? ` · fetched ${formatBytes(s.mountFetchedBytes)} in ${s.mountRequests} requests` : '';
    this.reused.textContent =
      entryIds.length > 0 ? `Reused: ${entryIds.join(', ')}${fetched}` : `Nothing reused${fetched}`;
    this.reused.dataset.ids = entryIds.join(',');
    if (s) this.reused.dataset.fetchedBytes = String(s.mountFetchedBytes);
  }

  private async mount(): Promise<void> {
    const url = this.url.value.trim();
    this.setEnabled(false);
    this.status.textContent = 'Mounting…';
    delete this.status.dataset.error;
    try {
      const m = await this.engine.cache.mount(url);
      this.docs = await fetchTexts(url);
      this.renderList();
      this.status.textContent = `Mounted ${m.entries} entries; fetched the index only (${formatBytes(m.indexBytes)})${m.ranged ? '' : ' — the host ignores Range: whole pack downloaded'}.`;
      this.status.dataset.mounted = String(m.entries);
    } catch (e) {
      const { code, message } = describeError(e);
      this.status.textContent = code ? `${code}: ${message}` : message;
      this.status.dataset.error = 'true';
    }
    this.setEnabled(true);
  }

  private renderList(): void {
    this.list.replaceChildren(
      ...this.docs.map((d, i) => {
        const box = el('input', { attrs: { type: 'checkbox', value: d.id, 'aria-label': d.id } });
        box.checked = i < 3;
        return el('li', {}, [
          el('label', {}, [box, el('span', { text: ` ${d.id}`, attrs: { title: d.text } })]),
        ]);
      }),
    );
  }

  private askSelected(): void {
    const chosen = [...this.list.querySelectorAll<HTMLInputElement>('input[type=checkbox]:checked')].map(
      (b) => b.value,
    );
    const texts = this.docs.filter((d) => chosen.includes(d.id)).map((d) => d.text);
    if (texts.length === 0) {
      this.status.textContent = 'Pick at least one document.';
      return;
    }
    // The documents in a new order (last picked first), then the question.
    this.ask(`${texts.reverse().join(' ')} ${this.question.value.trim()}`);
  }
}

/** The documents beside a pack (`x.kvpack` → `x.jsonl`: {"id", "text"} per line), or none. */
async function fetchTexts(packUrl: string): Promise<Doc[]> {
  const res = await fetch(packUrl.replace(/\.kvpack$/, '.jsonl')).catch(() => null);
  if (!res?.ok) return [];
  const docs: Doc[] = [];
  for (const line of (await res.text()).split('\n')) {
    if (!line.trim()) continue;
    try {
      const d = JSON.parse(line) as Partial<Doc>;
      if (typeof d.id === 'string' && typeof d.text === 'string') docs.push({ id: d.id, text: d.text });
    } catch {
      // Not a document line: skipped.
    }
  }
  return docs;
}
