import { FolderSource } from './source-folder.ts';
import { UrlSource } from './source-url.ts';

/** Called as bytes of one file arrive; `total` is the file size when known, else `null`. */
export type BytesCallback = (loaded: number, total: number | null) => void;

/**
 * Read-only access to the files of one model, wherever they live. File names are relative to the
 * model's folder or base URL (`config.json`, `model.safetensors`, ...).
 *
 * Errors: a file that is absent or cannot be read throws `ModelFileMissingError` naming the file and
 * the location; a file shorter than a requested range throws `ModelFormatError`; an aborted signal
 * throws `AbortError`.
 */
export interface ModelSource {
  /** The folder path or base URL, as given (for messages and cache keys). */
  readonly location: string;
  readonly kind: 'folder' | 'url';
  readJson(name: string, signal?: AbortSignal): Promise<unknown>;
  readText(name: string, signal?: AbortSignal): Promise<string>;
  /** The whole file. `onBytes` is called as chunks arrive, with non-decreasing `loaded`. */
  readBytes(name: string, onBytes?: BytesCallback, signal?: AbortSignal): Promise<Uint8Array>;
  /**
   * Bytes [start, end) of the file. Over HTTP this sends a Range request; when the server ignores
   * Range it reads the body from the start and stops once `end` is reached.
   */
  readRange(name: string, start: number, end: number, signal?: AbortSignal): Promise<Uint8Array>;
  /** The whole file as a sequence of chunks, in order, from byte 0 (memory stays one chunk). */
  readStream(name: string, signal?: AbortSignal): AsyncIterable<Uint8Array>;
  /** Size in bytes. */
  size(name: string, signal?: AbortSignal): Promise<number>;
  /** Whether the file exists (false for ENOENT or HTTP 404/410; other failures throw). */
  exists(name: string, signal?: AbortSignal): Promise<boolean>;
}

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
