/**
 * KV packs, format version 2: the index first, so a pack can be mounted lazily (src/store/mounted-pack.ts):
 * a client reads the header and the index (entry ids, token ids, byte ranges, SHA-256 of each entry),
 * answers retrieval from the tokens, and fetches one entry's bytes with an HTTP Range request only when
 * a prompt uses it. Little-endian:
 *
 *   offset  size  field
 *   0       8     magic 'KVSPACK\0'
 *   8       4     format version (u32) = 2
 *   12      4     entry count N (u32)
 *   16      64    model fingerprint, 64 lowercase ASCII hex digits
 *   80      4     index bytes (u32): the index is bytes [88, 88 + index bytes)
 *   84      4     reserved, 0
 *   88            index: N rows of { offset u64, length u64, SHA-256 of the entry's bytes [32],
 *                 T u32, id length u32, id UTF-8, zero-padded to 4, tokens i32[T] }, each row
 *                 zero-padded to a multiple of 8 bytes
 *   then          the entries (codec.ts: each carries its own K/V dtype), in index order, each at an
 *                 8-byte boundary right after the previous one (zero padding between)
 *
 * Bytes [0, 88 + index bytes) are "the index" an `integrity` digest pins (SRI-style, `sha256-<base64>`);
 * it holds every entry's digest, so it pins the whole pack. Version 1 packs (src/store/pack.ts) still
 * import; they have no index and cannot be mounted.
 */
import { CachePackError } from '../errors.ts';
import type { EntryExpectation, KVEntry } from '../kvshare/entry.ts';
import { decodeEntry, encodeEntry } from './codec.ts';
import {
  checkPackEntries,
  FINGERPRINT,
  PACK_HEADER_BYTES,
  PACK_MAGIC,
  writePackFrame,
} from './pack-layout.ts';

export { PACK_HEADER_BYTES } from './pack-layout.ts';

export const PACK_INDEX_VERSION = 2;
/** Largest index a mount reads (the whole index is held in memory). */
export const DEFAULT_INDEX_MAX_BYTES = 64 * 1024 * 1024;
const ROW_FIXED_BYTES = 8 + 8 + 32 + 4 + 4;
const MAX_ID_BYTES = 4096;

const align = (n: number, a: number): number => Math.ceil(n / a) * a;

/** One row of a version 2 index. */
export interface PackIndexRow {
  id: string;
  offset: number;
  length: number;
  /** SHA-256 of the entry's bytes [offset, offset + length). */
  sha256: Uint8Array;
  /** The entry's token ids [T]. */
  tokens: Int32Array;
}

export interface PackIndex {
  rows: PackIndexRow[];
  /** Bytes [0, indexEnd) are header + index; the entries follow. */
  indexEnd: number;
  /** The pack's total length the index implies (the end of its last entry). */
  packBytes: number;
}

export async function sha256(bytes: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>));
}

/** Encode `entries` (model `fingerprint`, distinct ids) as a version 2 pack. */
export async function encodeIndexedPack(
  entries: KVEntry[],
  fingerprint: string,
): Promise<Uint8Array<ArrayBuffer>> {
  checkPackEntries(entries, fingerprint);
  const enc = new TextEncoder();
  const ids = entries.map((e) => enc.encode(e.id));
  const payloads = entries.map(encodeEntry);
  const digests = await Promise.all(payloads.map(sha256));
  const rowBytes = entries.map((e, i) =>
    align(align(ROW_FIXED_BYTES + ids[i].length, 4) + 4 * e.tokens.length, 8),
  );
  const indexBytes = rowBytes.reduce((s, n) => s + n, 0);
  const { out, dv, offsets } = writePackFrame(PACK_INDEX_VERSION, fingerprint, indexBytes, payloads);
  let row = PACK_HEADER_BYTES;
  entries.forEach((e, i) => {
    dv.setBigUint64(row, BigInt(offsets[i]), true);
    dv.setBigUint64(row + 8, BigInt(payloads[i].length), true);
    out.set(digests[i], row + 16);
    dv.setUint32(row + 48, e.tokens.length, true);
    dv.setUint32(row + 52, ids[i].length, true);
    out.set(ids[i], row + ROW_FIXED_BYTES);
    const tokAt = row + align(ROW_FIXED_BYTES + ids[i].length, 4);
    for (let t = 0; t < e.tokens.length; t++) dv.setInt32(tokAt + 4 * t, e.tokens[t], true);
    row += rowBytes[i];
  });
  return out;
}

/** The format version of a pack's first 12 bytes (after checking the magic). */
export function packVersion(head: Uint8Array): number {
  if (head.length < 12) throw new CachePackError('KV pack is truncated: fewer than 12 bytes');
  for (let i = 0; i < 8; i++)
    if (head[i] !== PACK_MAGIC.charCodeAt(i))
      throw new CachePackError("KV pack has the wrong magic: not a KV pack (expected 'KVSPACK\\0')");
  return new DataView(head.buffer, head.byteOffset, head.byteLength).getUint32(8, true);
}

/**
 * The header of a version 2 pack: how many bytes header + index take (so a mount can fetch exactly
 * them). Checks magic, version, fingerprint, entry count and the index size cap.
 */
export function readIndexHeader(
  head: Uint8Array,
  expect: EntryExpectation,
  maxIndexBytes = DEFAULT_INDEX_MAX_BYTES,
): { count: number; indexEnd: number } {
  const fail = (msg: string): never => {
    throw new CachePackError(`KV pack ${msg}`);
  };
  if (head.length < PACK_HEADER_BYTES)
    fail(`is truncated: ${head.length} bytes, the header needs ${PACK_HEADER_BYTES}`);
  const version = packVersion(head);
  if (version !== PACK_INDEX_VERSION)
    fail(
      `has format version ${version}; only version ${PACK_INDEX_VERSION} packs (index first) can be mounted`,
    );
  const dv = new DataView(head.buffer, head.byteOffset, head.byteLength);
  const fingerprint = String.fromCharCode(...head.subarray(16, 80));
  if (!FINGERPRINT.test(fingerprint)) fail('has a malformed model fingerprint');
  if (fingerprint !== expect.fingerprint)
    fail(`was made for another model: pack ${fingerprint}, loaded model ${expect.fingerprint}`);
  if (dv.getUint32(84, true) !== 0) fail('has reserved header bits set');
  const count = dv.getUint32(12, true);
  const indexBytes = dv.getUint32(80, true);
  if (indexBytes > maxIndexBytes) fail(`has a ${indexBytes}-byte index, the limit is ${maxIndexBytes}`);
  if (count * ROW_FIXED_BYTES > indexBytes) fail(`index of ${indexBytes} bytes cannot hold ${count} entries`);
  return { count, indexEnd: PACK_HEADER_BYTES + indexBytes };
}

/**
 * Decode header + index (bytes [0, indexEnd)), checking every field: rows within the index, ids valid
 * UTF-8 and distinct, token ids within the vocabulary, entries in order without overlaps, 8-byte aligned.
 */
export function decodeIndex(bytes: Uint8Array, expect: EntryExpectation, maxIndexBytes?: number): PackIndex {
  const fail = (msg: string): never => {
    throw new CachePackError(`KV pack ${msg}`);
  };
  const { count, indexEnd } = readIndexHeader(bytes, expect, maxIndexBytes);
  if (bytes.length < indexEnd) fail(`index is truncated: ${bytes.length} of ${indexEnd} bytes`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dec = new TextDecoder('utf-8', { fatal: true });
  const rows: PackIndexRow[] = [];
  const ids = new Set<string>();
  let pos = PACK_HEADER_BYTES;
  let expected = indexEnd;
  const vocab = expect.vocabSize ?? 2 ** 31 - 1;
  for (let i = 0; i < count; i++) {
    if (pos + ROW_FIXED_BYTES > indexEnd) fail(`index is too short for ${count} entries (row ${i})`);
    const offset = dv.getBigUint64(pos, true);
    const length = dv.getBigUint64(pos + 8, true);
    const T = dv.getUint32(pos + 48, true);
    const idLen = dv.getUint32(pos + 52, true);
    if (idLen === 0 || idLen > MAX_ID_BYTES) fail(`entry ${i} has an id length of ${idLen} bytes`);
    const tokAt = pos + align(ROW_FIXED_BYTES + idLen, 4);
    const rowEnd = align(tokAt + 4 * T, 8);
    if (T === 0 || rowEnd > indexEnd) fail(`entry ${i}'s index row does not fit the index`);
    let id = '';
    try {
      id = dec.decode(bytes.subarray(pos + ROW_FIXED_BYTES, pos + ROW_FIXED_BYTES + idLen));
    } catch {
      fail(`entry ${i} has an id that is not valid UTF-8`);
    }
    if (ids.has(id)) fail(`names entry ${JSON.stringify(id)} twice`);
    ids.add(id);
    const tokens = new Int32Array(T); // [T]
    for (let t = 0; t < T; t++) {
      const v = dv.getInt32(tokAt + 4 * t, true);
      if (v < 0 || v >= vocab) fail(`entry ${i} has token id ${v} outside the vocabulary`);
      tokens[t] = v;
    }
    if (offset > BigInt(Number.MAX_SAFE_INTEGER) || length > BigInt(2 ** 32))
      fail(`entry ${i} has offset ${offset} / length ${length} out of range`);
    const off = Number(offset);
    if (off !== align(expected, 8)) fail(`entry ${i} starts at ${off}, expected ${align(expected, 8)}`);
    expected = off + Number(length);
    rows.push({ id, offset: off, length: Number(length), sha256: bytes.slice(pos + 16, pos + 48), tokens });
    pos = rowEnd;
  }
  if (pos !== indexEnd)
    fail(`index rows take ${pos - PACK_HEADER_BYTES} bytes, the header says ${indexEnd - PACK_HEADER_BYTES}`);
  return { rows, indexEnd, packBytes: expected };
}

/** Whether `bytes` hash to the row's SHA-256. */
export async function verifyRow(row: PackIndexRow, bytes: Uint8Array): Promise<boolean> {
  if (bytes.length !== row.length) return false;
  const d = await sha256(bytes);
  return d.every((b, i) => b === row.sha256[i]);
}

/** `sha256-<base64>` of bytes: the SRI form an `integrity` option takes. */
export async function integrityOf(bytes: Uint8Array): Promise<string> {
  const d = await sha256(bytes);
  let s = '';
  for (const b of d) s += String.fromCharCode(b);
  return `sha256-${btoa(s)}`;
}

/**
 * Decode a whole version 2 pack (an import, not a mount): the index, then every entry, each checked
 * against its SHA-256 and decoded (codec.ts) before anything is returned. CachePackError otherwise.
 */
export async function decodeIndexedPack(bytes: Uint8Array, expect: EntryExpectation): Promise<KVEntry[]> {
  const idx = decodeIndex(bytes, expect);
  if (idx.packBytes !== bytes.length)
    throw new CachePackError(
      `KV pack entries end at byte ${idx.packBytes}, the pack has ${bytes.length} bytes`,
    );
  const out: KVEntry[] = [];
  for (const [i, row] of idx.rows.entries())
    out.push(await decodeRow(row, bytes.slice(row.offset, row.offset + row.length), expect, i));
  return out;
}

/** One entry's bytes, checked against its index row (length, SHA-256, id) and decoded. */
export async function decodeRow(
  row: PackIndexRow,
  bytes: Uint8Array,
  expect: EntryExpectation,
  i: number,
): Promise<KVEntry> {
  const what = `KV pack entry ${i} (${JSON.stringify(row.id)})`;
  if (!(await verifyRow(row, bytes)))
    throw new CachePackError(`${what} does not match its SHA-256 in the index (damaged or altered)`);
  let entry: KVEntry;
  try {
    entry = decodeEntry(bytes, expect);
  } catch (e) {
    throw new CachePackError(`${what} is invalid: ${e instanceof Error ? e.message : String(e)}`, {
      cause: e,
    });
  }
  if (entry.id !== row.id)
    throw new CachePackError(`${what}: the entry's own id is ${JSON.stringify(entry.id)}`);
  if (entry.tokens.length !== row.tokens.length || entry.tokens.some((t, j) => t !== row.tokens[j]))
    throw new CachePackError(`${what}: its tokens differ from the index's`);
  return entry;
}
