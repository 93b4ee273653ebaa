import type { GGUFMetadata } from '@huggingface/gguf';
import { AbortError, KVShareError, ModelFormatError } from '../../errors.ts';
import type { ModelSource } from '../source/source-base.ts';
import { isAbortLike } from '../source/source-base.ts';

/** GGUF metadata: key → value (numbers, bigints for 64-bit integers, strings, booleans, arrays). */
export type GgufMetadata = GGUFMetadata<{ strict: false }>;

/** One tensor as the header describes it. */
export interface GgufTensorInfo {
  name: string;
  /** Row-major shape, outermost first: GGUF's ne[] reversed (ne[0], the contiguous count, is last). */
  shape: number[];
  /** GGML type id. */
  type: number;
  /** Absolute byte offset of the tensor's data in the file. */
  start: number;
}

export interface GgufHeader {
  file: string;
  metadata: GgufMetadata;
  tensors: GgufTensorInfo[];
  /** File size in bytes. */
  size: number;
  /** general.alignment (default 32): a power of two. */
  alignment: number;
  /** Where tensor data starts: the end of the tensor infos, padded to the alignment. */
  dataStart: number;
}

/**
 * The most header bytes read: metadata and tensor infos of real files take a few MB (a 256k-token
 * vocabulary with its merges ~10 MB); past this the file is refused before more is fetched.
 */
export const MAX_GGUF_HEADER_BYTES = 64 * 2 ** 20;

/**
 * Reads and parses the header of `file` (metadata and tensor infos) with `@huggingface/gguf`, whose
 * range requests are answered by `source.readRange` (the parser reads 2 MB chunks from byte 0 until
 * the tensor infos end; no tensor data is read on purpose). Throws ModelFormatError for a file that
 * is not GGUF or whose header is cut short, ModelFileMissingError when it cannot be read.
 */
export async function readGgufHeader(
  source: ModelSource,
  file: string,
  signal?: AbortSignal,
): Promise<GgufHeader> {
  const size = await source.size(file, signal);
  // The parser asks for `bytes=a-b` of a URL; this fetch serves them from the source (clamped to the file).
  const rangeFetch = async (_url: unknown, init?: { headers?: Record<string, string> }) => {
    const m = /^bytes=(\d+)-(\d+)$/.exec(init?.headers?.Range ?? '');
    if (!m) throw new ModelFormatError('internal error: the GGUF parser asked for an unexpected range');
    const start = Math.min(Number(m[1]), size);
    const end = Math.min(Number(m[2]) + 1, size);
    if (end > MAX_GGUF_HEADER_BYTES)
      throw new ModelFormatError(
        `${file} at ${source.location} has a header (metadata and tensor list) longer than ${MAX_GGUF_HEADER_BYTES} bytes.`,
      );
    const bytes = await source.readRange(file, start, end, signal);
    return new Response(bytes as Uint8Array<ArrayBuffer>, {
      status: 206,
      headers: { 'Content-Range': `bytes ${start}-${end - 1}/${size}` },
    });
  };
  // Imported on first use: the parser (with @huggingface/tasks, ~250 KB) is a chunk of its own in
  // browser bundles, fetched only when a .gguf file is loaded.
  const { gguf } = await import('@huggingface/gguf');
  let parsed: Awaited<ReturnType<typeof gguf>>;
  try {
    parsed = await gguf(`https://gguf.invalid/${encodeURIComponent(file)}`, {
      fetch: rangeFetch as unknown as typeof fetch,
    });
  } catch (e) {
    if (e instanceof KVShareError) throw e;
    if (signal?.aborted || isAbortLike(e)) throw new AbortError();
    const why = e instanceof Error ? e.message : String(e);
    throw new ModelFormatError(`${file} at ${source.location} is not a readable GGUF file: ${why}`, {
      cause: e,
    });
  }
  // The parser pads with 32-bit arithmetic (2^31 gives a negative offset): redone here, checked.
  const alignment = ggufAlignment((parsed.metadata as GgufMetadata)['general.alignment'], file, source);
  const infoEnd = Number(parsed.tensorInfoByteRange[1]);
  const dataStart = Math.ceil(infoEnd / alignment) * alignment;
  if (dataStart > size) throw truncated(file, source, dataStart, size);
  const tensors = parsed.tensorInfos.map((t) => ({
    name: t.name,
    shape: t.shape.map(Number).reverse(),
    type: t.dtype,
    start: dataStart + Number(t.offset),
  }));
  return { file, metadata: parsed.metadata as GgufMetadata, tensors, size, alignment, dataStart };
}

/** general.alignment as gguf.cpp accepts it: absent (32) or a u32 power of two. */
function ggufAlignment(v: unknown, file: string, source: ModelSource): number {
  if (v === undefined) return 32;
  if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0 || v > 2 ** 31 || (v & (v - 1)) !== 0) {
    throw new ModelFormatError(
      `${file} at ${source.location}: general.alignment must be a power of two (got ${String(v)}).`,
    );
  }
  return v;
}

function truncated(file: string, source: ModelSource, need: number, size: number): ModelFormatError {
  return new ModelFormatError(
    `${file} at ${source.location} is truncated: its header describes data up to byte ${need} but the file has ${size} bytes.`,
  );
}
