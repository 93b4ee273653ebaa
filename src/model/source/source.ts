import type { ModelSource } from './source-base.ts';
import { FolderSource } from './source-folder.ts';
import { UrlSource } from './source-url.ts';

export type { BytesCallback, ModelSource } from './source-base.ts';

/**
 * Opens a model location: `http://`, `https://` → fetched over HTTP; `file://` → a folder in Node
 * (Node's fetch cannot read file: URLs), fetched elsewhere; anything else → a local folder path in
 * Node, and a URL relative to the current document or worker (`/models/x`, `./x`) elsewhere.
 */
export function openModelSource(location: string): ModelSource {
  if (/^https?:\/\//i.test(location)) return new UrlSource(location);
  if (/^file:\/\//i.test(location)) {
    if (isNode()) return new FolderSource(filePathFromUrl(location), location);
    return new UrlSource(location);
  }
  if (isNode()) return new FolderSource(location, location);
  const base = (globalThis as { location?: { href?: string } }).location?.href;
  if (!base) return new FolderSource(location, location);
  return new UrlSource(new URL(location, base).href);
}

function isNode(): boolean {
  const p = (globalThis as { process?: { versions?: { node?: string } } }).process;
  return typeof p?.versions?.node === 'string';
}

/** `file:///a/b%20c/` → `/a/b c/` (and `file:///C:/x` → `C:/x` on Windows-style URLs). */
function filePathFromUrl(location: string): string {
  const url = new URL(location);
  const path = decodeURIComponent(url.pathname);
  return /^\/[A-Za-z]:\//.test(path) ? path.slice(1) : path;
}
