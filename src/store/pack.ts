/**
 * KV packs: many cache entries in one file, to ship a warmed cache with an app or move it between
 * browsers. Little-endian layout:
 *
 *   offset  size  field
 *   0       8     magic 'KVSPACK\0'
 *   8       4     format version (u32, PACK_FORMAT_VERSION)
 *   12      4     entry count N (u32)
 *   16      64    model fingerprint, 64 lowercase ASCII hex digits
 *   80      4     table bytes (u32)
 *   84      4     reserved, 0
 *   88            entry table: N rows of { offset u64, length u64, id length u32, id UTF-8 }, each
 *                 zero-padded to a multiple of 8 bytes
 *   then          the entries (codec.ts), in table order, each starting at an 8-byte boundary right
 *                 after the previous one (zero padding between); the pack ends where the last one ends
 *
 * decodePack checks every field, offset and entry before returning anything, so an import either adds
 * every new entry or none; entries whose id the cache already holds are skipped, never overwritten.
 * This is format version 1; version 2 (index first, mountable) is src/store/pack-index.ts, and
 * importPack reads both.
 */
import type { PackImportResult } from '../api/cache.ts';
import { CacheEntryError, CachePackError, InvalidArgumentError } from '../errors.ts';
import { type EntryExpectation, entryBytes, type KVEntry } from '../kvshare/entry.ts';
import type { EntryCache } from '../kvshare/entry-cache.ts';
import { decodeEntry, encodeEntry } from './codec.ts';
import {
  decodeIndex,
  decodeIndexedPack,
  PACK_INDEX_VERSION,
  packVersion,
  readIndexHeader,
} from './pack-index.ts';
import {
  checkPackEntries,
  FINGERPRINT,
  PACK_HEADER_BYTES,
  PACK_MAGIC,
  writePackFrame,
} from './pack-layout.ts';

export { PACK_MAGIC } from './pack-layout.ts';

export const PACK_FORMAT_VERSION = 1;
export const DEFAULT_PACK_MAX_BYTES = 512 * 1024 * 1024;
export const DEFAULT_PACK_MAX_ENTRIES = 65536;
const ROW_FIXED_BYTES = 20;
const MAX_ID_BYTES = 4096;

export interface PackLimits {
  maxBytes?: number; // largest pack accepted (default 512 MiB)
  maxEntries?: number; // most entries accepted (default 65536)
}

export type { PackImportResult } from '../api/cache.ts';

const align8 = (n: number): number => Math.ceil(n / 8) * 8;

/** Encode `entries` (all of model `fingerprint`, distinct ids) as one pack. */
export function encodePack(entries: KVEntry[], fingerprint: string): Uint8Array<ArrayBuffer> {
  checkPackEntries(entries, fingerprint);
  const enc = new TextEncoder();
  const ids = entries.map((e) => enc.encode(e.id));
  const payloads = entries.map(encodeEntry);
  const tableBytes = ids.reduce((sum, id) => sum + align8(ROW_FIXED_BYTES + id.length), 0);
  const { out, dv, offsets } = writePackFrame(PACK_FORMAT_VERSION, fingerprint, tableBytes, payloads);
  let row = PACK_HEADER_BYTES;
  payloads.forEach((p, i) => {
    dv.setBigUint64(row, BigInt(offsets[i]), true);
    dv.setBigUint64(row + 8, BigInt(p.length), true);
    dv.setUint32(row + 16, ids[i].length, true);
    out.set(ids[i], row + ROW_FIXED_BYTES);
    row += align8(ROW_FIXED_BYTES + ids[i].length);
  });
  return out;
}

interface TableRow {
  id: string;
  offset: number;
  length: number;
}

/**
 * Decode a pack, checking everything (magic, version, fingerprint, size caps, table bounds, offsets that
 * add up without gaps or overlaps, every entry's checksum and validity) before returning. Throws
 * CachePackError naming the first problem; a bad entry's CacheEntryError is its `cause`.
 * Each returned entry owns its own buffer (one copy of its bytes).
 */
export function decodePack(bytes: Uint8Array, expect: EntryExpectation, opts: PackLimits = {}): KVEntry[] {
  const fail = (msg: string, cause?: unknown): never => {
    throw new CachePackError(`KV pack ${msg}`, cause === undefined ? undefined : { cause });
  };
  const maxBytes = opts.maxBytes ?? DEFAULT_PACK_MAX_BYTES;
  const maxEntries = opts.maxEntries ?? DEFAULT_PACK_MAX_ENTRIES;
  if (!(bytes instanceof Uint8Array)) fail('is not a Uint8Array');
  if (bytes.length > maxBytes) fail(`is too large: ${bytes.length} bytes, the limit is ${maxBytes}`);
  if (bytes.length < PACK_HEADER_BYTES)
    fail(`is truncated: ${bytes.length} bytes, the header needs ${PACK_HEADER_BYTES}`);
  const { dv, count, tableBytes, tableEnd } = readHeader(bytes, expect, maxEntries, fail);
  if (tableEnd > bytes.length)
    fail(`is truncated: its ${tableBytes}-byte entry table ends past the pack's ${bytes.length} bytes`);
  const rows = readTable(bytes, dv, count, tableEnd, fail);
  let expected = tableEnd; // where the next entry must start (before alignment)
  rows.forEach((r, i) => {
    const what = `entry ${i} (${JSON.stringify(r.id)})`;
    if (r.offset + r.length > bytes.length) {
      fail(
        `${what} at [${r.offset}, ${r.offset + r.length}) lies outside the pack's ${bytes.length} bytes (truncated?)`,
      );
    }
    if (r.offset < expected)
      fail(`${what} at offset ${r.offset} overlaps the table or the previous entry (ends at ${expected})`);
    if (r.offset !== align8(expected)) {
      fail(`table offsets do not add up: ${what} starts at ${r.offset}, expected ${align8(expected)}`);
    }
    for (let b = expected; b < r.offset; b++) if (bytes[b] !== 0) fail(`has non-zero padding before ${what}`);
    expected = r.offset + r.length;
  });
  if (expected !== bytes.length) {
    fail(
      `table lengths do not add up: the entries end at byte ${expected}, the pack has ${bytes.length} bytes`,
    );
  }
  return rows.map((r, i) => {
    let entry: KVEntry;
    try {
      entry = decodeEntry(bytes.slice(r.offset, r.offset + r.length), expect);
    } catch (e) {
      const msg = e instanceof CacheEntryError ? e.message : String(e);
      return fail(`entry ${i} (${JSON.stringify(r.id)}) is invalid: ${msg}`, e);
    }
    if (entry.id !== r.id)
      fail(`entry ${i}: the table names ${JSON.stringify(r.id)}, the entry is ${JSON.stringify(entry.id)}`);
    return entry;
  });
}

/** The 88-byte header, checked: magic, version, fingerprint, entry count, reserved bits. */
function readHeader(
  bytes: Uint8Array,
  expect: EntryExpectation,
  maxEntries: number,
  fail: (msg: string) => never,
): { dv: DataView; count: number; tableBytes: number; tableEnd: number } {
  for (let i = 0; i < 8; i++) {
    if (bytes[i] !== PACK_MAGIC.charCodeAt(i))
      fail("has the wrong magic: not a KV pack (expected 'KVSPACK\\0')");
  }
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = dv.getUint32(8, true);
  if (version !== PACK_FORMAT_VERSION)
    fail(`has format version ${version}; this build reads ${PACK_FORMAT_VERSION}`);
  const count = dv.getUint32(12, true);
  const fingerprint = String.fromCharCode(...bytes.subarray(16, 80));
  if (!FINGERPRINT.test(fingerprint)) fail('has a malformed model fingerprint');
  if (fingerprint !== expect.fingerprint) {
    fail(`was made for another model: pack ${fingerprint}, loaded model ${expect.fingerprint}`);
  }
  if (count > maxEntries) fail(`holds ${count} entries, the limit is ${maxEntries}`);
  const tableBytes = dv.getUint32(80, true);
  if (dv.getUint32(84, true) !== 0) fail('has reserved header bits set');
  return { dv, count, tableBytes, tableEnd: PACK_HEADER_BYTES + tableBytes };
}

/**
 * The length a pack declares, from its first bytes (header and entry table, checked as decodePack
 * checks them): `{need}` until they have arrived. Lets a download stop at the declared end, or
 * before any entry arrives when the head is not a pack for this model. CachePackError for a bad head.
 */
export function declaredPackBytes(
  head: Uint8Array,
  expect: EntryExpectation,
  opts: PackLimits = {},
): number | { need: number } {
  const fail = (msg: string): never => {
    throw new CachePackError(`KV pack ${msg}`);
  };
  const maxBytes = opts.maxBytes ?? DEFAULT_PACK_MAX_BYTES;
  if (head.length < PACK_HEADER_BYTES) return { need: PACK_HEADER_BYTES };
  if (packVersion(head) === PACK_INDEX_VERSION) {
    // Version 2 (pack-index.ts): the index says where the last entry ends.
    const { indexEnd } = readIndexHeader(head, expect);
    if (indexEnd > maxBytes)
      fail(`is too large: its index ends at byte ${indexEnd}, the limit is ${maxBytes}`);
    if (head.length < indexEnd) return { need: indexEnd };
    return decodeIndex(head.subarray(0, indexEnd), expect).packBytes;
  }
  const { dv, count, tableEnd } = readHeader(head, expect, opts.maxEntries ?? DEFAULT_PACK_MAX_ENTRIES, fail);
  if (tableEnd > maxBytes)
    fail(`is too large: its entry table ends at byte ${tableEnd}, the limit is ${maxBytes}`);
  if (head.length < tableEnd) return { need: tableEnd };
  const rows = readTable(head, dv, count, tableEnd, fail, maxBytes);
  return rows.reduce((end, r) => Math.max(end, r.offset + r.length), tableEnd);
}

/** The entry table; offsets and lengths must lie within `size` bytes (the pack's, or the cap). */
function readTable(
  bytes: Uint8Array,
  dv: DataView,
  count: number,
  tableEnd: number,
  fail: (msg: string) => never,
  size = bytes.length,
): TableRow[] {
  const dec = new TextDecoder('utf-8', { fatal: true });
  const rows: TableRow[] = [];
  const ids = new Set<string>();
  let pos = PACK_HEADER_BYTES;
  for (let i = 0; i < count; i++) {
    if (pos + ROW_FIXED_BYTES > tableEnd)
      fail(`entry table is too short for ${count} entries (row ${i} does not fit)`);
    const offset = dv.getBigUint64(pos, true);
    const length = dv.getBigUint64(pos + 8, true);
    const idLen = dv.getUint32(pos + 16, true);
    if (offset > BigInt(size) || length > BigInt(size)) {
      fail(`entry ${i} has offset ${offset} / length ${length} beyond the pack's ${size} bytes`);
    }
    if (idLen === 0 || idLen > MAX_ID_BYTES) fail(`entry ${i} has an id length of ${idLen} bytes`);
    const rowBytes = align8(ROW_FIXED_BYTES + idLen);
    if (pos + rowBytes > tableEnd)
      fail(`entry table is too short for ${count} entries (row ${i} does not fit)`);
    let id = '';
    try {
      id = dec.decode(bytes.subarray(pos + ROW_FIXED_BYTES, pos + ROW_FIXED_BYTES + idLen));
    } catch {
      fail(`entry ${i} has an id that is not valid UTF-8`);
    }
    if (ids.has(id)) fail(`names entry ${JSON.stringify(id)} twice`);
    ids.add(id);
    rows.push({ id, offset: Number(offset), length: Number(length) });
    pos += rowBytes;
  }
  if (pos !== tableEnd)
    fail(
      `entry table lengths do not add up: ${count} rows take ${pos - PACK_HEADER_BYTES} bytes, the header says ${tableEnd - PACK_HEADER_BYTES}`,
    );
  return rows;
}

/**
 * Decode a pack and add its entries to `backend`, atomically: every field of every entry (sketch length
 * and positions against `expect` included) and every entry's size against the cache budget is checked
 * before anything is written; imported entries are approximate (exact = false, see below). An id the cache already holds is never overwritten: that entry is skipped
 * and listed in `skipped`. If an add still fails, the entries this import added are deleted again, so
 * the store is left as it was, and the failure is rethrown as CachePackError.
 */
export async function importPack(
  backend: EntryCache,
  data: Uint8Array | ArrayBuffer | Blob,
  expect: EntryExpectation,
  opts: PackLimits = {},
): Promise<PackImportResult> {
  const maxBytes = opts.maxBytes ?? DEFAULT_PACK_MAX_BYTES;
  let bytes: Uint8Array;
  if (data instanceof Uint8Array) bytes = data;
  else if (data instanceof ArrayBuffer) bytes = new Uint8Array(data);
  else if (typeof Blob === 'function' && data instanceof Blob) {
    if (data.size > maxBytes)
      throw new CachePackError(`KV pack is too large: ${data.size} bytes, the limit is ${maxBytes}`);
    bytes = new Uint8Array(await data.arrayBuffer());
  } else {
    throw new InvalidArgumentError('importPack expects a Uint8Array, an ArrayBuffer or a Blob');
  }
  if (bytes.length > maxBytes)
    throw new CachePackError(`KV pack is too large: ${bytes.length} bytes, the limit is ${maxBytes}`);
  const entries =
    bytes.length >= 12 && packVersion(bytes) === PACK_INDEX_VERSION
      ? await decodeIndexedPack(bytes, expect)
      : decodePack(bytes, expect, opts);
  // A pack's "exact" flag is a claim no cheap check can confirm (plausible but scaled K/V pass every
  // bound): imported entries are approximate, so prefix mode (lossless) only uses entries this engine
  // computed itself, while kvshare and naive modes reuse imported ones with their usual recompute.
  for (const e of entries) e.exact = false;
  const budget = backend.stats().budgetBytes;
  entries.forEach((e, i) => {
    const size = entryBytes(e);
    if (size > budget) {
      throw new CachePackError(
        `KV pack entry ${i} (${JSON.stringify(e.id)}) needs ${size} bytes, more than the whole cache budget of ${budget} bytes`,
      );
    }
  });
  const existing = new Set(backend.list().map((m) => m.id));
  const fresh = entries.filter((e) => !existing.has(e.id));
  const skipped = entries.filter((e) => existing.has(e.id)).map((e) => e.id);
  const added: string[] = [];
  try {
    for (const e of fresh) {
      await backend.store(e);
      added.push(e.id);
    }
  } catch (e) {
    for (const id of added) await backend.delete(id);
    if (e instanceof CachePackError) throw e;
    const msg = e instanceof Error ? e.message : String(e);
    throw new CachePackError(`KV pack could not be stored (nothing was imported): ${msg}`, { cause: e });
  }
  return { ids: added, skipped };
}

/** Pack the entries of model `fingerprint` held by `backend` (all listed ones, or `ids`); absent ids are skipped. */
export async function exportPack(
  backend: EntryCache,
  fingerprint: string,
  ids?: string[],
): Promise<Uint8Array<ArrayBuffer>> {
  const wanted = ids ?? backend.list().map((m) => m.id);
  const entries: KVEntry[] = [];
  for (const id of wanted) {
    const e = await backend.get(id);
    if (e && e.fingerprint === fingerprint) entries.push(e);
  }
  return encodePack(entries, fingerprint);
}
