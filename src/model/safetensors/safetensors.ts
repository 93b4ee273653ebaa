import { ModelFormatError } from '../../errors.ts';
import type { ModelSource } from '../source/source.ts';
import { checkFileName } from '../source/source-base.ts';
import type { DType, HostTensor } from '../types.ts';
import { DTYPE_BYTES, decodeToF32, isDType } from '../weights/dtype.ts';

/** What a caller may check before any weight data is read. */
export interface TensorInfo {
  name: string;
  shape: number[];
  dtype: DType;
  /** Bytes of the tensor in the checkpoint (elements × dtype size). */
  byteLength: number;
}

/** A tensor's place in its file: bytes [start, end) are absolute file offsets. */
export interface TensorEntry extends TensorInfo {
  file: string;
  start: number;
  end: number;
}

/** The parsed header of one .safetensors file. */
export interface SafetensorsHeader {
  file: string;
  /** File size in bytes. */
  size: number;
  /** Offset of the data section (8 + header length). */
  dataStart: number;
  /** Tensors in data order (ascending start). */
  tensors: TensorEntry[];
  metadata: Record<string, string>;
}

/** Every header of a checkpoint, single-file or sharded. */
export interface CheckpointHeaders {
  files: SafetensorsHeader[];
  /** All tensors of all files, sorted by name. */
  tensors: TensorEntry[];
  /** Sum of the file sizes. */
  totalBytes: number;
  sharded: boolean;
}

export const SINGLE_FILE = 'model.safetensors';
export const INDEX_FILE = 'model.safetensors.index.json';
/** The reference implementation refuses headers larger than this. */
export const MAX_HEADER_BYTES = 100_000_000;

/** Length of the JSON header from the first 8 bytes (little-endian u64), checked against the file size. */
export function readHeaderLength(first8: Uint8Array, fileSize: number, file: string): number {
  if (first8.byteLength < 8 || fileSize < 8) {
    throw new ModelFormatError(`${file}: too short (${fileSize} B) to be a safetensors file.`);
  }
  const n = new DataView(first8.buffer, first8.byteOffset, 8).getBigUint64(0, true);
  if (n > BigInt(Math.min(MAX_HEADER_BYTES, fileSize - 8))) {
    throw new ModelFormatError(`${file}: header length ${n} B does not fit the file (${fileSize} B).`);
  }
  return Number(n);
}

/**
 * Parses and validates a safetensors JSON header: dtypes (F32, F16, BF16 only), shapes, and
 * data_offsets that lie inside the file, match shape × dtype size and do not overlap.
 */
export function parseSafetensorsHeader(
  json: Uint8Array | string,
  fileSize: number,
  file: string,
): SafetensorsHeader {
  const headerBytes = typeof json === 'string' ? new TextEncoder().encode(json).byteLength : json.byteLength;
  const text = typeof json === 'string' ? json : new TextDecoder('utf-8').decode(json);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw new ModelFormatError(`${file}: the header is not valid JSON (${(e as Error).message}).`, {
      cause: e,
    });
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new ModelFormatError(`${file}: the header must be a JSON object.`);
  }
  const dataStart = 8 + headerBytes;
  const dataSize = fileSize - dataStart;
  if (dataSize < 0) throw new ModelFormatError(`${file}: the header runs past the end of the file.`);
  const tensors: TensorEntry[] = [];
  let metadata: Record<string, string> = {};
  for (const [name, v] of Object.entries(parsed as Record<string, unknown>)) {
    if (name === '__metadata__') {
      metadata = readMetadata(v, file);
      continue;
    }
    tensors.push(readEntry(name, v, file, dataStart, dataSize));
  }
  tensors.sort((a, b) => a.start - b.start || a.end - b.end);
  for (let i = 1; i < tensors.length; i++) {
    const prev = tensors[i - 1];
    const t = tensors[i];
    if (t.start < prev.end && t.end > t.start) {
      throw new ModelFormatError(`${file}: tensors ${prev.name} and ${t.name} overlap in the data section.`);
    }
  }
  return { file, size: fileSize, dataStart, tensors, metadata };
}

function readEntry(name: string, v: unknown, file: string, dataStart: number, dataSize: number): TensorEntry {
  const where = `${file}: tensor ${name}`;
  if (name.length === 0) throw new ModelFormatError(`${file}: a tensor has an empty name.`);
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    throw new ModelFormatError(`${where}: entry must be an object with dtype, shape and data_offsets.`);
  }
  const e = v as Record<string, unknown>;
  if (typeof e.dtype !== 'string') throw new ModelFormatError(`${where}: dtype is missing or not a string.`);
  if (!isDType(e.dtype)) {
    throw new ModelFormatError(
      `${where} has dtype ${e.dtype}, which is not supported (F32, F16, BF16 only).`,
    );
  }
  const shape = e.shape;
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw new ModelFormatError(
      `${where}: shape must be an array of integers >= 0 (got ${JSON.stringify(shape)}).`,
    );
  }
  const offs = e.data_offsets;
  if (!Array.isArray(offs) || offs.length !== 2 || !offs.every((o) => Number.isSafeInteger(o) && o >= 0)) {
    throw new ModelFormatError(`${where}: data_offsets must be [begin, end] (got ${JSON.stringify(offs)}).`);
  }
  const [begin, end] = offs as [number, number];
  if (end < begin)
    throw new ModelFormatError(`${where}: data_offsets [${begin}, ${end}] end before they begin.`);
  if (end > dataSize) {
    throw new ModelFormatError(
      `${where}: data_offsets [${begin}, ${end}] run past the end of the data section (${dataSize} B).`,
    );
  }
  const count = (shape as number[]).reduce((a, b) => a * b, 1);
  const byteLength = count * DTYPE_BYTES[e.dtype];
  if (end - begin !== byteLength) {
    throw new ModelFormatError(
      `${where}: data_offsets span ${end - begin} B but shape [${shape.join(', ')}] of ${e.dtype} needs ${byteLength} B.`,
    );
  }
  return {
    name,
    shape: [...(shape as number[])],
    dtype: e.dtype,
    byteLength,
    file,
    start: dataStart + begin,
    end: dataStart + end,
  };
}

function readMetadata(v: unknown, file: string): Record<string, string> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    throw new ModelFormatError(`${file}: __metadata__ must be an object of strings.`);
  }
  const out: Record<string, string> = {};
  for (const [k, s] of Object.entries(v as Record<string, unknown>)) {
    if (typeof s !== 'string') throw new ModelFormatError(`${file}: __metadata__.${k} must be a string.`);
    out[k] = s;
  }
  return out;
}

/** Reads one file's header with two range reads (8 bytes, then the JSON); no tensor data is read. */
export async function readSafetensorsHeader(
  source: ModelSource,
  file: string,
  signal?: AbortSignal,
): Promise<SafetensorsHeader> {
  const size = await source.size(file, signal);
  const first8 = await source.readRange(file, 0, Math.min(8, size), signal);
  const n = readHeaderLength(first8, size, file);
  const json = await source.readRange(file, 8, 8 + n, signal);
  return parseSafetensorsHeader(json, size, file);
}

/**
 * Reads the headers of a checkpoint: `model.safetensors` if present, else the shards named by
 * `model.safetensors.index.json`. Only headers are read (range reads), so sizes can be checked
 * before any weight download.
 */
export async function readHeaders(source: ModelSource, signal?: AbortSignal): Promise<CheckpointHeaders> {
  if (await source.exists(SINGLE_FILE, signal)) {
    const h = await readSafetensorsHeader(source, SINGLE_FILE, signal);
    return { files: [h], tensors: byName(h.tensors, SINGLE_FILE), totalBytes: h.size, sharded: false };
  }
  if (!(await source.exists(INDEX_FILE, signal))) {
    // Let the source say which file is missing and where (folder or URL).
    await source.size(SINGLE_FILE, signal);
  }
  const weightMap = parseIndex(await source.readJson(INDEX_FILE, signal));
  const fileNames = [...new Set(weightMap.values())].sort();
  const files: SafetensorsHeader[] = [];
  for (const f of fileNames) files.push(await readSafetensorsHeader(source, f, signal));
  const all = files.flatMap((h) => h.tensors);
  for (const t of all) {
    const listed = weightMap.get(t.name);
    if (listed === undefined)
      throw new ModelFormatError(`${t.file}: tensor ${t.name} is not listed in ${INDEX_FILE}.`);
    if (listed !== t.file) {
      throw new ModelFormatError(`${INDEX_FILE} puts tensor ${t.name} in ${listed}, but it is in ${t.file}.`);
    }
  }
  const tensors = byName(all, INDEX_FILE);
  if (tensors.length !== weightMap.size) {
    const found = new Set(tensors.map((t) => t.name));
    const missing = [...weightMap.keys()].find((k) => !found.has(k));
    throw new ModelFormatError(
      `${INDEX_FILE} lists tensor ${missing} in ${weightMap.get(missing!)}, which lacks it.`,
    );
  }
  return { files, tensors, totalBytes: files.reduce((s, h) => s + h.size, 0), sharded: true };
}

function parseIndex(json: unknown): Map<string, string> {
  const wm =
    typeof json === 'object' && json !== null ? (json as { weight_map?: unknown }).weight_map : undefined;
  if (typeof wm !== 'object' || wm === null || Array.isArray(wm)) {
    throw new ModelFormatError(`${INDEX_FILE}: weight_map is missing or not an object.`);
  }
  const map = new Map<string, string>();
  for (const [name, file] of Object.entries(wm as Record<string, unknown>)) {
    if (typeof file !== 'string')
      throw new ModelFormatError(`${INDEX_FILE}: weight_map.${name} must be a file name.`);
    checkFileName(file);
    map.set(name, file);
  }
  if (map.size === 0) throw new ModelFormatError(`${INDEX_FILE}: weight_map is empty.`);
  return map;
}

/** Sorted by name; a name found twice is an error. */
function byName(tensors: TensorEntry[], where: string): TensorEntry[] {
  const sorted = [...tensors].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i].name === sorted[i - 1].name) {
      throw new ModelFormatError(`${where}: tensor ${sorted[i].name} appears twice.`);
    }
  }
  return sorted;
}

/** Parses a whole .safetensors file held in memory and decodes every tensor to f32. */
export function parseSafetensors(bytes: Uint8Array, file = SINGLE_FILE): Map<string, HostTensor> {
  const n = readHeaderLength(bytes.subarray(0, 8), bytes.byteLength, file);
  const header = parseSafetensorsHeader(bytes.subarray(8, 8 + n), bytes.byteLength, file);
  const out = new Map<string, HostTensor>();
  for (const t of header.tensors) {
    const data = decodeToF32(bytes.subarray(t.start, t.end), t.dtype);
    out.set(t.name, { name: t.name, shape: t.shape, dtype: t.dtype, data });
  }
  return out;
}
