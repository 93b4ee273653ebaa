import { AbortError, ModelFormatError } from '../../errors.ts';
import { type BodyStream, readBounded } from '../../util/bounded-read.ts';

export { isAbortLike } from '../../util/bounded-read.ts';

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
  /**
   * The whole file, at most wholeFileCap(name) bytes (ModelFormatError past it, the download
   * stopped there). `onBytes` is called as chunks arrive, with non-decreasing `loaded`.
   */
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

/** An open file: its size when known and its bytes in order from byte 0. */
export type OpenedStream = BodyStream;

const MiB = 2 ** 20;

/**
 * The most bytes of a model file read whole into memory, by kind: tokenizer.json 64 MiB (the
 * largest real ones are ~35 MB), other JSON 16 MiB, a chat template 1 MiB, anything else 64 MiB.
 * Weights are streamed or read by range, never whole.
 */
export function wholeFileCap(name: string): number {
  if (name === 'tokenizer.json' || name.endsWith('/tokenizer.json')) return 64 * MiB;
  if (name.endsWith('.json')) return 16 * MiB;
  if (name.endsWith('.jinja')) return MiB;
  return 64 * MiB;
}

/** Shared parts of folder and URL sources: everything is built on `open()` and `readRange()`. */
export abstract class BaseSource implements ModelSource {
  abstract readonly kind: 'folder' | 'url';
  constructor(readonly location: string) {}

  protected abstract open(name: string, signal?: AbortSignal): Promise<OpenedStream>;
  abstract readRange(name: string, start: number, end: number, signal?: AbortSignal): Promise<Uint8Array>;
  abstract size(name: string, signal?: AbortSignal): Promise<number>;
  abstract exists(name: string, signal?: AbortSignal): Promise<boolean>;

  async *readStream(name: string, signal?: AbortSignal): AsyncIterable<Uint8Array> {
    const opened = await this.open(name, signal);
    yield* opened.chunks;
  }

  async readBytes(name: string, onBytes?: BytesCallback, signal?: AbortSignal): Promise<Uint8Array> {
    const opened = await this.open(name, signal);
    const where = `${name} at ${this.location}`;
    return readBounded(
      opened,
      wholeFileCap(name),
      {
        tooLarge: (bytes, cap, declared) =>
          new ModelFormatError(
            `${where} is too large: ${declared ? `${bytes} bytes declared` : `more than ${cap} bytes sent`}, the limit for this file is ${cap} bytes.`,
          ),
        cut: (got, total) => new ModelFormatError(`${where}: expected ${total} bytes but got ${got}.`),
      },
      onBytes,
    );
  }

  async readText(name: string, signal?: AbortSignal): Promise<string> {
    const bytes = await this.readBytes(name, undefined, signal);
    return new TextDecoder('utf-8').decode(bytes);
  }

  async readJson(name: string, signal?: AbortSignal): Promise<unknown> {
    const text = await this.readText(name, signal);
    try {
      return JSON.parse(text);
    } catch (e) {
      throw new ModelFormatError(`${name} at ${this.location} is not valid JSON: ${(e as Error).message}`, {
        cause: e,
      });
    }
  }

  /** Checks a range request before any I/O; returns false when the range is empty. */
  protected checkRange(name: string, start: number, end: number): boolean {
    if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end < start) {
      throw new RangeError(`Invalid byte range [${start}, ${end}) for ${name}.`);
    }
    return end > start;
  }

  protected truncated(name: string, start: number, end: number, got: number): ModelFormatError {
    return new ModelFormatError(
      `${name} at ${this.location} is truncated: bytes [${start}, ${end}) were requested but only ${got} could be read.`,
    );
  }
}

/** Model file names must be plain names or forward-slash relative paths without `.`/`..` parts. */
export function checkFileName(name: string): void {
  if (
    name.length === 0 ||
    name.startsWith('/') ||
    name.includes('\\') ||
    name.split('/').some((part) => part === '..' || part === '.' || part === '')
  ) {
    throw new ModelFormatError(
      `Invalid model file name ${JSON.stringify(name)}: expected a relative name like 'config.json'.`,
    );
  }
}

export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new AbortError();
}

/** Joins chunks into one array of exactly `total` bytes. */
export function concatChunks(chunks: Uint8Array[], total: number): Uint8Array {
  if (chunks.length === 1 && chunks[0].byteLength === total) return chunks[0];
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}
