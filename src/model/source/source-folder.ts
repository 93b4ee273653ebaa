import { ModelFileMissingError } from '../../errors.ts';
import { BaseSource, checkFileName, type OpenedStream, throwIfAborted } from './source-base.ts';

type Fs = typeof import('node:fs/promises');
type FileHandle = Awaited<ReturnType<Fs['open']>>;

const CHUNK_BYTES = 8 << 20;

/**
 * A model folder on the local disk (Node only). `node:fs/promises` is imported on first use, so
 * this module still bundles for browsers, where it is never constructed.
 */
export class FolderSource extends BaseSource {
  readonly kind = 'folder' as const;
  private fs: Promise<Fs> | null = null;

  /** `dir` is the path to read; `location` is what messages show (the path or the file: URL). */
  constructor(
    private readonly dir: string,
    location: string,
  ) {
    super(location);
  }

  private nodeFs(): Promise<Fs> {
    this.fs ??= import('node:fs/promises');
    return this.fs;
  }

  private pathOf(name: string): string {
    checkFileName(name);
    return `${this.dir.replace(/[/\\]+$/, '')}/${name}`;
  }

  protected async open(name: string, signal?: AbortSignal): Promise<OpenedStream> {
    const total = await this.size(name, signal);
    return { total, chunks: this.chunks(name, total, signal) };
  }

  /** Opens the file only when iteration starts, and closes it when iteration ends or stops. */
  private async *chunks(name: string, total: number, signal?: AbortSignal): AsyncGenerator<Uint8Array> {
    const fh = await this.openHandle(name);
    try {
      let pos = 0;
      while (pos < total) {
        throwIfAborted(signal);
        const buf = new Uint8Array(Math.min(CHUNK_BYTES, total - pos));
        const { bytesRead } = await fh.read(buf, 0, buf.byteLength, pos);
        if (bytesRead === 0) break;
        pos += bytesRead;
        yield bytesRead === buf.byteLength ? buf : buf.subarray(0, bytesRead);
      }
    } finally {
      await fh.close();
    }
  }

  async readRange(name: string, start: number, end: number, signal?: AbortSignal): Promise<Uint8Array> {
    throwIfAborted(signal);
    const fh = await this.openHandle(name);
    try {
      if (!this.checkRange(name, start, end)) return new Uint8Array(0);
      const out = new Uint8Array(end - start);
      let got = 0;
      while (got < out.byteLength) {
        const { bytesRead } = await fh.read(out, got, out.byteLength - got, start + got);
        if (bytesRead === 0) break;
        got += bytesRead;
      }
      if (got !== out.byteLength) throw this.truncated(name, start, end, got);
      return out;
    } finally {
      await fh.close();
    }
  }

  async size(name: string, signal?: AbortSignal): Promise<number> {
    throwIfAborted(signal);
    const fs = await this.nodeFs();
    try {
      const st = await fs.stat(this.pathOf(name));
      if (!st.isFile()) throw Object.assign(new Error(`${name} is not a regular file`), { code: 'EISDIR' });
      return st.size;
    } catch (e) {
      throw await this.missing(name, e);
    }
  }

  async exists(name: string, signal?: AbortSignal): Promise<boolean> {
    throwIfAborted(signal);
    const fs = await this.nodeFs();
    try {
      return (await fs.stat(this.pathOf(name))).isFile();
    } catch (e) {
      if (errCode(e) === 'ENOENT' || errCode(e) === 'ENOTDIR') return false;
      throw await this.missing(name, e);
    }
  }

  private async openHandle(name: string): Promise<FileHandle> {
    const fs = await this.nodeFs();
    try {
      return await fs.open(this.pathOf(name), 'r');
    } catch (e) {
      throw await this.missing(name, e);
    }
  }

  /** The error for a file that cannot be read, saying whether the folder itself is absent. */
  private async missing(name: string, cause: unknown): Promise<ModelFileMissingError> {
    const code = errCode(cause);
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      const fs = await this.nodeFs();
      const folderExists = await fs.stat(this.dir).then(
        (s) => s.isDirectory(),
        () => false,
      );
      if (!folderExists) {
        return new ModelFileMissingError(
          `Model folder ${this.location} does not exist (looking for ${name}).`,
          {
            cause,
          },
        );
      }
      return new ModelFileMissingError(`Model file ${name} is missing from folder ${this.location}.`, {
        cause,
      });
    }
    const why = cause instanceof Error ? cause.message : String(cause);
    return new ModelFileMissingError(`Model file ${name} in folder ${this.location} cannot be read: ${why}`, {
      cause,
    });
  }
}

function errCode(e: unknown): string | undefined {
  const code = typeof e === 'object' && e !== null ? (e as { code?: unknown }).code : undefined;
  return typeof code === 'string' ? code : undefined;
}
