/** Small DOM helpers for the demo. Text always goes in as textContent, never as HTML. */

export interface ElementProps {
  class?: string;
  /** A stable hook for the browser tests (`data-testid`). */
  testid?: string;
  text?: string;
  /** Other attributes (id, type, title, aria-*, data-*...). */
  attrs?: Record<string, string>;
}

export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: ElementProps = {},
  children: (Node | string)[] = [],
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (props.class) node.className = props.class;
  if (props.testid) node.dataset.testid = props.testid;
  if (props.text !== undefined) node.textContent = props.text;
  for (const [name, value] of Object.entries(props.attrs ?? {})) node.setAttribute(name, value);
  for (const child of children) node.append(child);
  return node;
}

/** The element with this id, which index.html must hold. */
export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const node = document.getElementById(id);
  if (!node) throw new Error(`demo/index.html has no #${id}`);
  return node as T;
}

const MB = 1024 * 1024;

/** "0.52 MB", "12.3 MB", "512 MB". */
export function formatMB(bytes: number): string {
  const mb = bytes / MB;
  const digits = mb < 10 ? 2 : mb < 100 ? 1 : 0;
  return `${mb.toFixed(digits)} MB`;
}

/** "812 B", "14.2 KB", "3.40 MB". */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < MB) return `${(bytes / 1024).toFixed(1)} KB`;
  return formatMB(bytes);
}

/** What a thrown value says: `CODE: message` for KVShare errors, else the message. */
export function describeError(e: unknown): { code: string | null; message: string } {
  if (e instanceof Error) {
    const code = (e as { code?: unknown }).code;
    return { code: typeof code === 'string' ? code : null, message: e.message };
  }
  return { code: null, message: String(e) };
}
