import { crc32 as zlibCrc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { CacheEntryError } from '../../src/errors.ts';
import { makeEntry } from '../../src/kvshare/entry.ts';
import {
  crc32,
  decodeEntry,
  ENTRY_FORMAT_VERSION,
  encodedEntryLength,
  encodeEntry,
  storedChecksum,
} from '../../src/store/codec.ts';
import { expectSameEntry, MODEL, OTHER_MODEL, seeded, testEntry } from './helpers.ts';

/** Re-seal `bytes` after editing: recompute the trailing CRC-32 so only the edit is wrong. */
function reseal(bytes: Uint8Array): Uint8Array {
  new DataView(bytes.buffer, bytes.byteOffset).setUint32(
    bytes.length - 4,
    crc32(bytes, 0, bytes.length - 4),
    true,
  );
  return bytes;
}

describe('entry codec', () => {
  it('computes the standard CRC-32', () => {
    expect(crc32(new TextEncoder().encode('123456789'))).toBe(0xcbf43926);
    expect(crc32(new Uint8Array(0))).toBe(0);
    const rnd = seeded(7);
    for (let n = 0; n < 100; n++) {
      const bytes = Uint8Array.from({ length: 3 * n + (n % 11) }, () => Math.floor((rnd() + 1) * 128));
      const from = n % 5;
      expect(crc32(bytes, from)).toBe(zlibCrc32(bytes.subarray(from)));
    }
  });

  it('round-trips an entry exactly, including positions, exact flag and timestamps', () => {
    const e = testEntry('entry-α', 9, { exact: true, now: 1234.5 });
    e.positions = Int32Array.from({ length: 9 }, (_, i) => 3 + 2 * i);
    e.lastUsed = 99999;
    e.k[1][5] = -0; // sign of zero survives
    const bytes = encodeEntry(e);
    expect(bytes.length).toBe(encodedEntryLength(e));
    expect(bytes.length % 4).toBe(0);
    const d = decodeEntry(bytes, MODEL);
    expectSameEntry(d, e);
    expect(d.lastUsed).toBe(99999);
    expect(Object.is(d.k[1][5], -0)).toBe(true);
    expect(storedChecksum(bytes)).toBe(crc32(bytes, 0, bytes.length - 4));
  });

  it('decodes into views over the input, copying only a misaligned input', () => {
    const e = testEntry('views', 5);
    const bytes = encodeEntry(e);
    const d = decodeEntry(bytes, MODEL);
    expect(d.k[0].buffer).toBe(bytes.buffer);
    expect(d.tokens.buffer).toBe(bytes.buffer);
    const shifted = new Uint8Array(bytes.length + 1);
    shifted.set(bytes, 1);
    const d2 = decodeEntry(shifted.subarray(1), MODEL);
    expect(d2.k[0].buffer).not.toBe(shifted.buffer);
    expectSameEntry(d2, e);
  });

  it('rejects a wrong magic and an unknown version', () => {
    const bytes = encodeEntry(testEntry('m'));
    const badMagic = bytes.slice();
    badMagic[0] = 0x58;
    expect(() => decodeEntry(reseal(badMagic), MODEL)).toThrow(/wrong magic/);
    const badVersion = bytes.slice();
    new DataView(badVersion.buffer).setUint32(4, ENTRY_FORMAT_VERSION + 1, true);
    expect(() => decodeEntry(reseal(badVersion), MODEL)).toThrow(CacheEntryError);
    expect(() => decodeEntry(reseal(badVersion), MODEL)).toThrow(/format version 3/);
  });

  it('rejects truncated, over-long and inconsistent payloads', () => {
    const bytes = encodeEntry(testEntry('t', 4));
    expect(() => decodeEntry(bytes.subarray(0, 10), MODEL)).toThrow(/truncated/);
    expect(() => decodeEntry(bytes.slice(0, bytes.length - 8), MODEL)).toThrow(/truncated/);
    const longer = new Uint8Array(bytes.length + 4);
    longer.set(bytes);
    expect(() => decodeEntry(longer, MODEL)).toThrow(/length mismatch/);
    const moreTokens = bytes.slice();
    new DataView(moreTokens.buffer).setUint32(12, 5, true); // T 4 → 5 without the data
    expect(() => decodeEntry(reseal(moreTokens), MODEL)).toThrow(/truncated/);
    const hugeT = bytes.slice();
    new DataView(hugeT.buffer).setUint32(12, 0xffffffff, true);
    expect(() => decodeEntry(reseal(hugeT), MODEL)).toThrow(/truncated/);
  });

  it('rejects a checksum mismatch anywhere in the payload', () => {
    const bytes = encodeEntry(testEntry('c', 6));
    for (const at of [0 + 8, 60, bytes.length - 40, bytes.length - 1]) {
      const bad = bytes.slice();
      bad[at] ^= 0x10;
      expect(() => decodeEntry(bad, MODEL), `byte ${at}`).toThrow(CacheEntryError);
    }
    const bad = bytes.slice();
    bad[bytes.length - 40] ^= 0x01; // inside V of the last layer
    expect(() => decodeEntry(bad, MODEL)).toThrow(/checksum/);
  });

  it('runs validateEntry: another model, non-finite values, token ids out of range', () => {
    const e = testEntry('v', 4);
    expect(() => decodeEntry(encodeEntry(e), OTHER_MODEL)).toThrow(/fingerprint mismatch/);
    expect(() => decodeEntry(encodeEntry(e), { ...MODEL, numLayers: 3 })).toThrow(/layer count/);
    const nan = testEntry('nan', 4);
    nan.v[1][3] = Number.NaN;
    expect(() => decodeEntry(encodeEntry(nan), MODEL)).toThrow(/non-finite/);
    const tok = makeEntry({
      ...MODEL,
      id: 'tok',
      tokens: [1, 2, 5000],
      k: e.k.map((a) => a.slice(0, 3 * 8)),
      v: e.v.map((a) => a.slice(0, 3 * 8)),
      now: 0,
    });
    expect(() => decodeEntry(encodeEntry(tok), MODEL)).toThrow(/out of range/);
    expect(() => decodeEntry(encodeEntry(tok), { ...MODEL, vocabSize: undefined })).not.toThrow();
  });

  it('refuses to encode an entry whose arrays disagree', () => {
    const e = testEntry('bad', 4);
    e.k[0] = e.k[0].subarray(0, 8);
    expect(() => encodeEntry(e)).toThrow(CacheEntryError);
  });
});
