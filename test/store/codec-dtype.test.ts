import { describe, expect, it } from 'vitest';
import { conformEntry, type KVEntry } from '../../src/kvshare/entry.ts';
import { MemoryTier } from '../../src/kvshare/memory-tier.ts';
import { crc32, decodeEntry, encodeEntry } from '../../src/store/codec.ts';
import { decodePack, encodePack } from '../../src/store/pack.ts';
import { f16ArrayToF32, f32ArrayToF16 } from '../../src/util/kv-dtype.ts';
import { dequantizeQ8, quantizeQ8 } from '../../src/util/kv-q8.ts';
import { MODEL, testEntry } from './helpers.ts';

/** The entry as an f16 entry (what an engine loaded with kvDtype 'f16' writes back). */
const asF16 = (e: KVEntry): KVEntry => conformEntry(e, 'f16');

/** `bytes` re-written as entry format version 1 (before the dtype field; K/V f32), checksum redone. */
function asVersion1(bytes: Uint8Array): Uint8Array {
  const out = bytes.slice();
  const dv = new DataView(out.buffer);
  expect(dv.getUint32(36, true)).toBe(0); // f32
  dv.setUint32(4, 1, true);
  dv.setUint32(out.length - 4, crc32(out, 0, out.length - 4), true);
  return out;
}

describe('entry format version 2: the K/V dtype in the header', () => {
  it('an f16 entry round-trips bit for bit, as Uint16Array views, in about half the bytes', () => {
    const e = asF16(testEntry('h', 40));
    const bytes = encodeEntry(e);
    const d = decodeEntry(bytes, MODEL);
    expect(d.dtype).toBe('f16');
    expect(d.k[1]).toBeInstanceOf(Uint16Array);
    expect(d.k[1].buffer).toBe(bytes.buffer);
    for (let l = 0; l < MODEL.numLayers; l++) {
      expect(Array.from(d.k[l])).toEqual(Array.from(e.k[l]));
      expect(Array.from(d.v[l])).toEqual(Array.from(e.v[l]));
    }
    const f32 = encodeEntry(testEntry('h', 40));
    const kvF32 = 2 * MODEL.numLayers * 40 * MODEL.kvDim * 4;
    expect(f32.length - bytes.length).toBe(kvF32 / 2); // only K/V narrow
  });

  it('reads version-1 payloads as f32 and rejects an unknown dtype code', () => {
    const e = testEntry('old', 5);
    const v1 = asVersion1(encodeEntry(e));
    const d = decodeEntry(v1, MODEL);
    expect(d.dtype).toBe('f32');
    expect(Array.from(d.v[1])).toEqual(Array.from(e.v[1]));
    const reserved = v1.slice();
    new DataView(reserved.buffer).setUint32(36, 1, true); // version 1 had no dtype field
    new DataView(reserved.buffer).setUint32(
      reserved.length - 4,
      crc32(reserved, 0, reserved.length - 4),
      true,
    );
    expect(() => decodeEntry(reserved, MODEL)).toThrow(/reserved bits/);
    const unknown = encodeEntry(e);
    new DataView(unknown.buffer).setUint32(36, 9, true);
    new DataView(unknown.buffer).setUint32(unknown.length - 4, crc32(unknown, 0, unknown.length - 4), true);
    expect(() => decodeEntry(unknown, MODEL)).toThrow(/unknown K\/V dtype code 9/);
  });

  it('a header that says f16 over f32 data is refused (the lengths disagree), never read as halves', () => {
    const bytes = encodeEntry(testEntry('mix', 5));
    new DataView(bytes.buffer).setUint32(36, 1, true);
    new DataView(bytes.buffer).setUint32(bytes.length - 4, crc32(bytes, 0, bytes.length - 4), true);
    expect(() => decodeEntry(bytes, MODEL)).toThrow(/length mismatch/);
  });

  it('refuses to encode an entry whose arrays are not of its dtype', () => {
    const e = testEntry('lie', 4);
    e.dtype = 'f16';
    expect(() => encodeEntry(e)).toThrow(/not f16 arrays/);
  });

  it('validates f16 K/V: a non-finite half is refused', () => {
    const e = asF16(testEntry('inf', 4));
    (e.v[0] as Uint16Array)[3] = 0x7c00; // +Inf
    expect(() => decodeEntry(encodeEntry(e), MODEL)).toThrow(/non-finite f16 value at row 0, column 3/);
  });
});

describe('ingest converts entries to the cache dtype', () => {
  it('an f16 cache stores a version-1 (f32) entry as halves, rounded, at half the K/V bytes', () => {
    const e = testEntry('v1', 12);
    const cache = new MemoryTier({ ...MODEL, kvDtype: 'f16', budgetBytes: 1 << 20 });
    const { entry } = cache.store(decodeEntry(asVersion1(encodeEntry(e)), MODEL));
    expect(entry.dtype).toBe('f16');
    expect(cache.get('v1')).toBe(entry);
    for (let l = 0; l < MODEL.numLayers; l++) {
      expect(Array.from(entry.k[l])).toEqual(Array.from(f32ArrayToF16(e.k[l] as Float32Array)));
    }
    const kv = 2 * MODEL.numLayers * 12 * MODEL.kvDim;
    expect(cache.stats().bytes).toBe(4 * (2 * 12 + e.sketch.length) + 2 * kv);
  });

  it('an f32 cache widens an f16 entry exactly; a pack of f16 entries imports into it', () => {
    const h = asF16(testEntry('p', 7));
    const cache = new MemoryTier({ ...MODEL, kvDtype: 'f32', budgetBytes: 1 << 20 });
    const [fromPack] = decodePack(encodePack([h], MODEL.fingerprint), MODEL);
    expect(fromPack.dtype).toBe('f16');
    const { entry } = cache.store(fromPack);
    expect(entry.dtype).toBe('f32');
    expect(Array.from(entry.v[1])).toEqual(Array.from(f16ArrayToF32(h.v[1] as Uint16Array)));
  });

  it('a cache without a dtype keeps what it is given', () => {
    const cache = new MemoryTier({ ...MODEL, budgetBytes: 1 << 20 });
    const h = asF16(testEntry('keep', 3));
    expect(cache.store(h).entry).toBe(h);
  });
});

describe('q8 entries: int8 codes and an f32 scale per 32 values', () => {
  const Q8_MODEL = { ...MODEL, kvDim: 32 };
  const q8Entry = (id: string, T: number) => conformEntry(testEntry(id, T, { model: Q8_MODEL }), 'q8');

  it('round-trip byte for byte, as Uint8Array views, in 9/32 of the f32 K/V bytes', () => {
    const e = q8Entry('q', 20);
    expect(e.k[0]).toBeInstanceOf(Uint8Array);
    const bytes = encodeEntry(e);
    expect(new DataView(bytes.buffer).getUint32(36, true)).toBe(2); // the q8 dtype code
    const d = decodeEntry(bytes, Q8_MODEL);
    expect(d.dtype).toBe('q8');
    expect(d.k[1]).toBeInstanceOf(Uint8Array);
    expect(d.k[1].buffer).toBe(bytes.buffer);
    for (let l = 0; l < MODEL.numLayers; l++) {
      expect(Array.from(d.k[l])).toEqual(Array.from(e.k[l]));
      expect(Array.from(d.v[l])).toEqual(Array.from(e.v[l]));
    }
    const kvF32 = 2 * MODEL.numLayers * 20 * Q8_MODEL.kvDim * 4;
    const f32 = encodeEntry(testEntry('q', 20, { model: Q8_MODEL }));
    expect(f32.length - bytes.length).toBe(kvF32 - (kvF32 * 9) / 32);
  });

  it('a q8 header over f16 data is refused; q8 needs kvDim % 32 == 0', () => {
    const bytes = encodeEntry(conformEntry(testEntry('mix', 5, { model: Q8_MODEL }), 'f16'));
    new DataView(bytes.buffer).setUint32(36, 2, true);
    new DataView(bytes.buffer).setUint32(bytes.length - 4, crc32(bytes, 0, bytes.length - 4), true);
    expect(() => decodeEntry(bytes, Q8_MODEL)).toThrow(/length mismatch/);
    const narrow = encodeEntry(testEntry('n', 4)); // kvDim 8
    new DataView(narrow.buffer).setUint32(36, 2, true);
    new DataView(narrow.buffer).setUint32(narrow.length - 4, crc32(narrow, 0, narrow.length - 4), true);
    expect(() => decodeEntry(narrow, MODEL)).toThrow(/q8 with kvDim 8/);
    const e = testEntry('lie', 4);
    e.dtype = 'q8';
    expect(() => encodeEntry(e)).toThrow(/kvDim % 32 == 0/);
  });

  it('validates q8 scales: a NaN, negative or too large scale is refused', () => {
    for (const [s, what] of [
      [Number.NaN, 'NaN'],
      [-1, '-1'],
      [1000, '1000'],
    ] as const) {
      const e = q8Entry('bad', 4);
      const a = e.v[1] as Uint8Array;
      new DataView(a.buffer, a.byteOffset).setFloat32(36 + 32, s, true); // row 1's scale
      expect(() => decodeEntry(encodeEntry(e), Q8_MODEL)).toThrow(
        new RegExp(`v\\[1\\] has the q8 scale ${what} .* at row 1, columns 0..31`),
      );
    }
  });

  it('a q8 cache quantizes an f32 (version-1) entry; an f32 cache dequantizes a q8 pack exactly', () => {
    const e = testEntry('v1', 12, { model: Q8_MODEL });
    const q8Cache = new MemoryTier({ ...Q8_MODEL, kvDtype: 'q8', budgetBytes: 1 << 20 });
    const { entry } = q8Cache.store(decodeEntry(asVersion1(encodeEntry(e)), Q8_MODEL));
    expect(entry.dtype).toBe('q8');
    expect(Array.from(entry.k[1])).toEqual(Array.from(quantizeQ8(e.k[1] as Float32Array)));
    const kv = 2 * MODEL.numLayers * 12 * Q8_MODEL.kvDim;
    expect(q8Cache.stats().bytes).toBe(4 * (2 * 12 + e.sketch.length) + (kv * 9) / 8);
    const f32Cache = new MemoryTier({ ...Q8_MODEL, kvDtype: 'f32', budgetBytes: 1 << 20 });
    const [fromPack] = decodePack(encodePack([entry], MODEL.fingerprint), Q8_MODEL);
    expect(fromPack.dtype).toBe('q8');
    const wide = f32Cache.store(fromPack).entry;
    expect(wide.dtype).toBe('f32');
    expect(Array.from(wide.v[0])).toEqual(Array.from(dequantizeQ8(entry.v[0] as Uint8Array)));
  });
});
