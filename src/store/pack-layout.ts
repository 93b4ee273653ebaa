/**
 * What KV pack versions 1 (src/store/pack.ts) and 2 (src/store/pack-index.ts) share: the 88-byte header
 * (magic, version, entry count, model fingerprint, table/index bytes), the checks on what goes in, and
 * the entries laid out after the table, each at an 8-byte boundary. Each version writes its own rows.
 */
import { InvalidArgumentError } from '../errors.ts';
import type { KVEntry } from '../kvshare/entry.ts';

export const PACK_MAGIC = 'KVSPACK\0';
export const PACK_HEADER_BYTES = 88;
export const FINGERPRINT = /^[0-9a-f]{64}$/;

/** Throws InvalidArgumentError unless `fingerprint` is well formed, every entry is that model's, and ids are distinct. */
export function checkPackEntries(entries: KVEntry[], fingerprint: string): void {
  if (!FINGERPRINT.test(fingerprint)) {
    throw new InvalidArgumentError(
      `fingerprint must be 64 lowercase hex digits, got ${JSON.stringify(fingerprint)}`,
    );
  }
  const seen = new Set<string>();
  for (const e of entries) {
    if (e.fingerprint !== fingerprint) {
      throw new InvalidArgumentError(
        `entry ${JSON.stringify(e.id)} belongs to model ${e.fingerprint}, not ${fingerprint}`,
      );
    }
    if (seen.has(e.id)) throw new InvalidArgumentError(`entry id ${JSON.stringify(e.id)} appears twice`);
    seen.add(e.id);
  }
}

/** A pack with its header and entries written; the caller fills the table rows at [88, 88 + tableBytes). */
export interface PackFrame {
  out: Uint8Array<ArrayBuffer>;
  dv: DataView;
  /** Where each payload starts. */
  offsets: number[];
}

/** Lay out a pack of `payloads` (encoded entries) behind a table of `tableBytes`, and write the header and payloads. */
export function writePackFrame(
  version: number,
  fingerprint: string,
  tableBytes: number,
  payloads: Uint8Array[],
): PackFrame {
  const offsets: number[] = [];
  let end = PACK_HEADER_BYTES + tableBytes;
  for (const p of payloads) {
    const off = Math.ceil(end / 8) * 8;
    offsets.push(off);
    end = off + p.length;
  }
  const out = new Uint8Array(end);
  const dv = new DataView(out.buffer);
  for (let i = 0; i < 8; i++) out[i] = PACK_MAGIC.charCodeAt(i);
  dv.setUint32(8, version, true);
  dv.setUint32(12, payloads.length, true);
  for (let i = 0; i < 64; i++) out[16 + i] = fingerprint.charCodeAt(i);
  dv.setUint32(80, tableBytes, true);
  for (const [i, p] of payloads.entries()) out.set(p, offsets[i]);
  return { out, dv, offsets };
}
