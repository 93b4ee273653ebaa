/**
 * Binary encoding of one KVEntry (little-endian), the payload IndexedDB and KV packs store.
 *
 *   offset  size  field
 *   0       4     magic 'KVSE'
 *   4       4     format version (u32, ENTRY_FORMAT_VERSION)
 *   8       4     flags (u32; bit 0 = exact, bit 1 = has a meta section (version 2), other bits must be 0)
 *   12      4     T, number of tokens (u32)
 *   16      4     numLayers L (u32)
 *   20      4     kvDim D (u32)
 *   24      4     sketch length S (u32)
 *   28      4     id length in UTF-8 bytes (u32)
 *   32      4     fingerprint length in UTF-8 bytes (u32)
 *   36      4     K/V dtype (u32; version 1: reserved, 0 = f32; version 2: bits 0..7 the dtype, 0 = f32,
 *                 1 = f16, 2 = q8; bits 8..15 the q8 group G (kv-q8.ts) when G is not 32, 0 when it
 *                 is (so q8 in groups of 32 is code 2, as written before groups varied; G = 8 is
 *                 0x802, 24 is 0x1802) and for f32 / f16; other bits 0. A G that is not a multiple of
 *                 4 in [4, 28], or that does not divide D, is refused)
 *   40      8     createdAt (f64)
 *   48      8     lastUsed (f64)
 *   56            id, fingerprint (UTF-8), zero-padded to a multiple of 4
 *   then          tokens i32[T], positions i32[T], sketch u32[S], K L × [T, D], V L × [T, D] of the dtype
 *                 (f32, f16 as IEEE half bits, or q8: per G values G int8 codes and an f32 scale)
 *   then          only with flag bit 1: meta length M (u32, 1..MAX_META_BYTES), the entry's application
 *                 metadata as UTF-8 JSON (user-meta.ts) [M], zero-padded to a multiple of 4
 *   last    4     CRC-32 (IEEE) of every byte before it
 *
 * Every array starts at a 4-byte-aligned offset (D is even; q8: D % G == 0, G + 4 bytes per group), so
 * decoding makes typed-array views over the input instead of copies (one copy of the whole payload
 * only when the input itself is misaligned).
 * This build writes version 2 and reads versions 1 (f32 K/V, before the dtype field) and 2; the
 * K/V of an entry of another dtype or q8 group than the cache's are converted where it comes in
 * (conformEntry).
 */
import { CacheEntryError } from '../errors.ts';
import { type EntryExpectation, type KVEntry, validateEntry } from '../kvshare/entry.ts';
import { decodeUserMeta, encodeUserMeta, MAX_META_BYTES } from '../kvshare/user-meta.ts';
import { type KVArray, type KVDtype, type KVStorage, kvBytes, kvLength } from '../util/kv-dtype.ts';
import { isQ8Group, Q8_MAX_GROUP } from '../util/kv-q8.ts';

export const ENTRY_MAGIC = 'KVSE';
export const ENTRY_FORMAT_VERSION = 2;
/** The dtype codes of header field 36's low byte (version 2), by code. */
const DTYPE_CODES: readonly KVDtype[] = ['f32', 'f16', 'q8'];
/** The q8 group header field 36 leaves out (bits 8..15 = 0): the group of every q8 entry written before groups varied. */
const IMPLIED_Q8_GROUP = Q8_MAX_GROUP;

/** Header field 36 of a version-2 entry of storage `kv` (see the table above). */
function dtypeCode(kv: KVStorage): number {
  const code = DTYPE_CODES.indexOf(kv.dtype);
  return kv.dtype === 'q8' && kv.q8Group !== IMPLIED_Q8_GROUP ? code | ((kv.q8Group ?? 0) << 8) : code;
}
const FIXED_HEADER_BYTES = 56;
const MAX_STRING_BYTES = 4096; // id and fingerprint; anything longer is a corrupt header
const FLAG_EXACT = 1;
const FLAG_META = 2;

/** Slicing-by-8 tables: row 0 is the CRC-32 (reflected 0xEDB88320) of each byte, row k shifts it k bytes. */
const CRC_TABLES = (() => {
  const t = new Uint32Array(8 * 256); // [8, 256]
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  for (let n = 0; n < 256; n++) {
    for (let k = 1; k < 8; k++)
      t[k * 256 + n] = (t[(k - 1) * 256 + n] >>> 8) ^ t[t[(k - 1) * 256 + n] & 0xff];
  }
  return t;
})();

/** CRC-32 (IEEE 802.3, as zlib and PNG use) of bytes[start, end), eight bytes per step. */
export function crc32(bytes: Uint8Array, start = 0, end = bytes.length): number {
  const t = CRC_TABLES;
  let c = 0xffffffff;
  let i = start;
  for (; i + 8 <= end; i += 8) {
    const a = (c ^ (bytes[i] | (bytes[i + 1] << 8) | (bytes[i + 2] << 16) | (bytes[i + 3] << 24))) >>> 0;
    const b = bytes[i + 4] | (bytes[i + 5] << 8) | (bytes[i + 6] << 16) | (bytes[i + 7] << 24);
    c =
      t[1792 + (a & 0xff)] ^
      t[1536 + ((a >>> 8) & 0xff)] ^
      t[1280 + ((a >>> 16) & 0xff)] ^
      t[1024 + (a >>> 24)] ^
      t[768 + (b & 0xff)] ^
      t[512 + ((b >>> 8) & 0xff)] ^
      t[256 + ((b >>> 16) & 0xff)] ^
      t[b >>> 24];
  }
  for (; i < end; i++) c = t[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

const pad4 = (n: number): number => (n + 3) & ~3;

function bodyBytes(T: number, L: number, D: number, S: number, kv: KVStorage): number {
  return 4 * (2 * T + S) + 2 * L * kvBytes(kv.dtype, T * D, kv.q8Group ?? 0);
}

/** Bytes of the meta section for `metaBytes` bytes of JSON (0: no section). */
const metaSectionBytes = (metaBytes: number): number => (metaBytes > 0 ? 4 + pad4(metaBytes) : 0);

/**
 * Byte length of an encoded entry whose id and fingerprint take `stringBytes` UTF-8 bytes together and
 * whose metadata takes `metaBytes` bytes of JSON (0: none).
 */
export function payloadLength(
  stringBytes: number,
  T: number,
  L: number,
  D: number,
  S: number,
  kv: KVStorage = { dtype: 'f32' },
  metaBytes = 0,
): number {
  return FIXED_HEADER_BYTES + pad4(stringBytes) + bodyBytes(T, L, D, S, kv) + metaSectionBytes(metaBytes) + 4;
}

/** Bytes of the UTF-8 JSON the codec stores for an entry's metadata (0 without). */
export function metaByteLength(meta: KVEntry['meta']): number {
  return meta ? encodeUserMeta(meta).length : 0;
}

/** Byte length encodeEntry(e) will produce. */
export function encodedEntryLength(e: KVEntry): number {
  const enc = new TextEncoder();
  const strings = enc.encode(e.id).length + enc.encode(e.fingerprint).length;
  return payloadLength(
    strings,
    e.tokens.length,
    e.numLayers,
    e.kvDim,
    e.sketch.length,
    e,
    metaByteLength(e.meta),
  );
}

/** The CRC-32 stored at the end of an encoded entry (no verification). */
export function storedChecksum(bytes: Uint8Array): number {
  if (bytes.length < 4) throw new CacheEntryError('cache entry payload is truncated: fewer than 4 bytes');
  return new DataView(bytes.buffer, bytes.byteOffset + bytes.length - 4, 4).getUint32(0, true);
}

/** Encode `e` into one freshly allocated buffer. Throws CacheEntryError when its arrays disagree in length. */
export function encodeEntry(e: KVEntry): Uint8Array<ArrayBuffer> {
  const T = e.tokens.length;
  const L = e.numLayers;
  const D = e.kvDim;
  const S = e.sketch.length;
  const where = `cache entry ${JSON.stringify(e.id)}`;
  if (e.positions.length !== T)
    throw new CacheEntryError(`${where}: ${e.positions.length} positions for ${T} tokens`);
  if (e.k.length !== L || e.v.length !== L) {
    throw new CacheEntryError(`${where}: k/v hold ${e.k.length}/${e.v.length} layers, expected ${L}`);
  }
  if (!DTYPE_CODES.includes(e.dtype))
    throw new CacheEntryError(`${where}: unknown K/V dtype ${JSON.stringify(e.dtype)}`);
  const group = e.q8Group ?? 0;
  if (e.dtype === 'q8' && !(isQ8Group(group) && D % group === 0)) {
    throw new CacheEntryError(
      `${where}: q8 K/V need a group that is a multiple of 4 in [4, 32] and divides kvDim ${D} (got ${e.q8Group})`,
    );
  }
  const Kind = { f32: Float32Array, f16: Uint16Array, q8: Uint8Array }[e.dtype];
  const len = kvLength(e.dtype, T * D, group);
  for (let l = 0; l < L; l++) {
    if (e.k[l].length !== len || e.v[l].length !== len) {
      throw new CacheEntryError(
        `${where}: layer ${l} K/V length is not that of ${T} × ${D} ${e.dtype} values`,
      );
    }
    if (!(e.k[l] instanceof Kind) || !(e.v[l] instanceof Kind)) {
      throw new CacheEntryError(`${where}: layer ${l} K/V are not ${e.dtype} arrays`);
    }
  }
  const enc = new TextEncoder();
  const id = enc.encode(e.id);
  const fp = enc.encode(e.fingerprint);
  const meta = e.meta ? encodeUserMeta(e.meta) : new Uint8Array(0);
  if (meta.length > MAX_META_BYTES)
    throw new CacheEntryError(`${where}: meta takes ${meta.length} bytes, more than ${MAX_META_BYTES}`);
  const bodyStart = FIXED_HEADER_BYTES + pad4(id.length + fp.length);
  const total = bodyStart + bodyBytes(T, L, D, S, e) + metaSectionBytes(meta.length) + 4;
  const out = new Uint8Array(total);
  const dv = new DataView(out.buffer);
  for (let i = 0; i < 4; i++) out[i] = ENTRY_MAGIC.charCodeAt(i);
  dv.setUint32(4, ENTRY_FORMAT_VERSION, true);
  dv.setUint32(8, (e.exact ? FLAG_EXACT : 0) | (meta.length > 0 ? FLAG_META : 0), true);
  dv.setUint32(12, T, true);
  dv.setUint32(16, L, true);
  dv.setUint32(20, D, true);
  dv.setUint32(24, S, true);
  dv.setUint32(28, id.length, true);
  dv.setUint32(32, fp.length, true);
  dv.setUint32(36, dtypeCode(e), true);
  dv.setFloat64(40, e.createdAt, true);
  dv.setFloat64(48, e.lastUsed, true);
  out.set(id, FIXED_HEADER_BYTES);
  out.set(fp, FIXED_HEADER_BYTES + id.length);
  let off = bodyStart;
  new Int32Array(out.buffer, off, T).set(e.tokens); // [T]
  off += 4 * T;
  new Int32Array(out.buffer, off, T).set(e.positions); // [T]
  off += 4 * T;
  new Uint32Array(out.buffer, off, S).set(e.sketch); // [S]
  off += 4 * S;
  const layerBytes = kvBytes(e.dtype, T * D, group);
  for (const layers of [e.k, e.v]) {
    for (let l = 0; l < L; l++) {
      const a = layers[l]; // [T, D]
      out.set(new Uint8Array(a.buffer, a.byteOffset, layerBytes), off);
      off += layerBytes;
    }
  }
  if (meta.length > 0) {
    dv.setUint32(off, meta.length, true);
    out.set(meta, off + 4);
    off += metaSectionBytes(meta.length);
  }
  dv.setUint32(off, crc32(out, 0, off), true);
  return out;
}

/**
 * Decode and validate an encoded entry. Throws CacheEntryError for a wrong magic or version, a truncated
 * or over-long payload, a header that disagrees with the payload length, a checksum mismatch, and for
 * anything validateEntry rejects (another model, wrong shapes, non-finite values, bad token ids).
 * The arrays of the result are views over `bytes` when it is 4-byte aligned.
 */
export function decodeEntry(input: Uint8Array, expect: EntryExpectation): KVEntry {
  const fail = (msg: string): never => {
    throw new CacheEntryError(`cache entry payload ${msg}`);
  };
  if (!(input instanceof Uint8Array)) fail('is not a Uint8Array');
  if (input.length < FIXED_HEADER_BYTES + 4) {
    fail(`is truncated: ${input.length} bytes, the header alone needs ${FIXED_HEADER_BYTES + 4}`);
  }
  for (let i = 0; i < 4; i++) {
    if (input[i] !== ENTRY_MAGIC.charCodeAt(i)) fail(`has the wrong magic (expected '${ENTRY_MAGIC}')`);
  }
  const bytes = input.byteOffset % 4 === 0 ? input : input.slice(); // typed-array views need aligned offsets
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = dv.getUint32(4, true);
  if (version !== 1 && version !== ENTRY_FORMAT_VERSION) {
    fail(`has format version ${version}; this build reads versions 1 and ${ENTRY_FORMAT_VERSION}`);
  }
  const flags = dv.getUint32(8, true);
  const T = dv.getUint32(12, true);
  const L = dv.getUint32(16, true);
  const D = dv.getUint32(20, true);
  const S = dv.getUint32(24, true);
  const idLen = dv.getUint32(28, true);
  const fpLen = dv.getUint32(32, true);
  const code = dv.getUint32(36, true); // version 1: reserved, 0 (f32)
  const known = version === 1 ? FLAG_EXACT : FLAG_EXACT | FLAG_META;
  if ((flags & ~known) !== 0 || (version === 1 && code !== 0)) fail('has unknown flag or reserved bits set');
  const dtype = code >>> 16 === 0 ? DTYPE_CODES[code & 0xff] : undefined;
  if (dtype === undefined) return fail(`has an unknown K/V dtype code ${code}`);
  const groupBits = (code >>> 8) & 0xff;
  if (dtype !== 'q8' && groupBits !== 0) fail(`is ${dtype} but its dtype code ${code} names a q8 group`);
  const group = dtype === 'q8' ? groupBits || IMPLIED_Q8_GROUP : 0;
  if (dtype === 'q8' && (!isQ8Group(groupBits || IMPLIED_Q8_GROUP) || groupBits === IMPLIED_Q8_GROUP)) {
    fail(
      `has an invalid q8 group ${groupBits} (dtype code ${code}): a multiple of 4 in [4, 28], or 0 for 32`,
    );
  }
  if (dtype === 'q8' && D % group !== 0)
    fail(`is q8 in groups of ${group} with kvDim ${D}, not a multiple of it`);
  const kv: KVStorage = dtype === 'q8' ? { dtype, q8Group: group } : { dtype };
  if (idLen > MAX_STRING_BYTES || fpLen > MAX_STRING_BYTES) {
    fail(`has an id or fingerprint longer than ${MAX_STRING_BYTES} bytes`);
  }
  const bodyStart = FIXED_HEADER_BYTES + pad4(idLen + fpLen);
  const bodyEnd = bodyStart + bodyBytes(T, L, D, S, kv); // exact in f64: each factor < 2^32, product < 2^53 or huge
  let metaLen = 0;
  if (flags & FLAG_META) {
    if (bytes.length < bodyEnd + 8) fail(`is truncated: ${bytes.length} bytes, too few for its meta section`);
    metaLen = dv.getUint32(bodyEnd, true);
    if (metaLen === 0 || metaLen > MAX_META_BYTES)
      fail(`has a meta section of ${metaLen} bytes; 1 to ${MAX_META_BYTES} are allowed`);
  }
  const total = bodyEnd + metaSectionBytes(metaLen) + 4;
  if (bytes.length < total) {
    fail(`is truncated: ${bytes.length} bytes, the header (T=${T}, L=${L}, kvDim=${D}) implies ${total}`);
  }
  if (bytes.length > total) {
    fail(
      `has a length mismatch: ${bytes.length} bytes, the header (T=${T}, L=${L}, kvDim=${D}) implies ${total}`,
    );
  }
  const want = dv.getUint32(total - 4, true);
  const got = crc32(bytes, 0, total - 4);
  if (want !== got) fail(`fails its checksum: stored CRC-32 ${hex32(want)}, computed ${hex32(got)}`);
  const dec = new TextDecoder('utf-8', { fatal: true });
  let id = '';
  let fingerprint = '';
  try {
    id = dec.decode(bytes.subarray(FIXED_HEADER_BYTES, FIXED_HEADER_BYTES + idLen));
    fingerprint = dec.decode(bytes.subarray(FIXED_HEADER_BYTES + idLen, FIXED_HEADER_BYTES + idLen + fpLen));
  } catch {
    fail('has an id or fingerprint that is not valid UTF-8');
  }
  const buf = bytes.buffer;
  let off = bytes.byteOffset + bodyStart;
  const tokens = new Int32Array(buf, off, T); // [T]
  off += 4 * T;
  const positions = new Int32Array(buf, off, T); // [T]
  off += 4 * T;
  const sketch = new Uint32Array(buf, off, S); // [S]
  off += 4 * S;
  const k: KVArray[] = []; // L × [T, D] of dtype
  const v: KVArray[] = []; // L × [T, D] of dtype
  for (const layers of [k, v]) {
    for (let l = 0; l < L; l++) {
      const bytes = kvBytes(dtype, T * D, group);
      if (dtype === 'q8') layers.push(new Uint8Array(buf, off, bytes));
      else
        layers.push(dtype === 'f16' ? new Uint16Array(buf, off, T * D) : new Float32Array(buf, off, T * D));
      off += bytes;
    }
  }
  const meta =
    metaLen > 0 ? decodeUserMeta(bytes.subarray(bodyEnd + 4, bodyEnd + 4 + metaLen), fail) : undefined;
  const entry: KVEntry = {
    id,
    fingerprint,
    tokens,
    positions,
    numLayers: L,
    kvDim: D,
    ...kv,
    k,
    v,
    sketch,
    exact: (flags & FLAG_EXACT) !== 0,
    createdAt: dv.getFloat64(40, true),
    lastUsed: dv.getFloat64(48, true),
    ...(meta ? { meta } : {}),
  };
  validateEntry(entry, expect);
  return entry;
}

function hex32(n: number): string {
  return `0x${n.toString(16).padStart(8, '0')}`;
}
