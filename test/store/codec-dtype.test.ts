import { describe, expect, it } from 'vitest';
import { CacheEntryError } from '../../src/errors.ts';
import { conformEntry, type KVEntry, validateEntry } from '../../src/kvshare/entry.ts';
import { MemoryTier } from '../../src/kvshare/memory-tier.ts';
import { crc32, decodeEntry, encodeEntry } from '../../src/store/codec.ts';
import { decodePack, encodePack } from '../../src/store/pack.ts';
import { decodeIndexedPack, encodeIndexedPack } from '../../src/store/pack-index.ts';
import { f16ArrayToF32, f32ArrayToF16 } from '../../src/util/kv-dtype.ts';
import { dequantizeQ8, quantizeQ8 } from '../../src/util/kv-q8.ts';
import { MODEL, testEntry } from './helpers.ts';

/** The entry as an f16 entry (what an engine loaded with kvDtype 'f16' writes back). */
const asF16 = (e: KVEntry): KVEntry => conformEntry(e, 'f16', undefined);

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

/** `bytes` with header field 36 (the dtype code) set to `code`, checksum redone. */
function withDtypeCode(bytes: Uint8Array, code: number): Uint8Array {
  const out = bytes.slice();
  const dv = new DataView(out.buffer);
  dv.setUint32(36, code, true);
  dv.setUint32(out.length - 4, crc32(out, 0, out.length - 4), true);
  return out;
}

describe('q8 entries: int8 codes and an f32 scale per group of G values', () => {
  const Q8_MODEL = { ...MODEL, kvDim: 32 };
  const q8Entry = (id: string, T: number, G = 32) =>
    conformEntry(testEntry(id, T, { model: Q8_MODEL }), 'q8', G);

  it.each([
    [32, 2],
    [8, 0x802],
    [16, 0x1002],
  ])(
    'in groups of %i: dtype code %i, round-trip byte for byte, as Uint8Array views, in (G + 4) / 4G of the f32 K/V bytes',
    (G, code) => {
      const e = q8Entry('q', 20, G);
      expect(e.k[0]).toBeInstanceOf(Uint8Array);
      expect(e.q8Group).toBe(G);
      const bytes = encodeEntry(e);
      expect(new DataView(bytes.buffer).getUint32(36, true)).toBe(code); // q8 (2), G above 8 bits unless 32
      const d = decodeEntry(bytes, Q8_MODEL);
      expect(d.dtype).toBe('q8');
      expect(d.q8Group).toBe(G);
      expect(d.k[1]).toBeInstanceOf(Uint8Array);
      expect(d.k[1].buffer).toBe(bytes.buffer);
      for (let l = 0; l < MODEL.numLayers; l++) {
        expect(Array.from(d.k[l])).toEqual(Array.from(e.k[l]));
        expect(Array.from(d.v[l])).toEqual(Array.from(e.v[l]));
      }
      const kvF32 = 2 * MODEL.numLayers * 20 * Q8_MODEL.kvDim * 4;
      const f32 = encodeEntry(testEntry('q', 20, { model: Q8_MODEL }));
      expect(f32.length - bytes.length).toBe(kvF32 - (kvF32 * (G + 4)) / (4 * G));
    },
  );

  it('a header claiming an invalid q8 group, or a group on f32 / f16, is a CacheEntryError', () => {
    const bytes = encodeEntry(q8Entry('g', 3, 8));
    for (const [code, why] of [
      [0x302, /invalid q8 group 3/], // not a multiple of 4
      [0x2002, /invalid q8 group 32/], // 32 is written as 0 (code 2), never spelled out
      [0x2402, /invalid q8 group 36/], // beyond 32
      [0x1002, /length mismatch/], // a valid group, but not the one the data is in
      [0x1802, /groups of 24 with kvDim 32/], // 24 does not divide kvDim 32
      [0x800, /is f32 but its dtype code 2048 names a q8 group/],
      [0x10002, /unknown K\/V dtype code 65538/],
    ] as const) {
      expect(() => decodeEntry(withDtypeCode(bytes, code), Q8_MODEL), `code ${code}`).toThrow(
        CacheEntryError,
      );
      expect(() => decodeEntry(withDtypeCode(bytes, code), Q8_MODEL), `code ${code}`).toThrow(why);
    }
    const e = q8Entry('g', 3, 8);
    expect(() => encodeEntry({ ...e, q8Group: 12 })).toThrow(/divides kvDim 32 \(got 12\)/);
    expect(() => validateEntry({ ...e, q8Group: 6 }, Q8_MODEL)).toThrow(/q8 with the invalid group 6/);
    expect(() => validateEntry({ ...e, q8Group: undefined }, Q8_MODEL)).toThrow(CacheEntryError);
  });

  it('an entry of another q8 group is converted where it comes in (memory tier, packs v1 and v2), from the values it holds', async () => {
    const e32 = q8Entry('old', 6, 32); // as a q8 entry written before groups varied
    const cache8 = new MemoryTier({ ...Q8_MODEL, kvDtype: 'q8', q8Group: 8, budgetBytes: 1 << 20 });
    const [fromPack] = decodePack(encodePack([e32], MODEL.fingerprint), Q8_MODEL);
    expect(fromPack.q8Group).toBe(32);
    const { entry } = cache8.store(fromPack);
    expect(entry.q8Group).toBe(8);
    for (let l = 0; l < MODEL.numLayers; l++) {
      const held = dequantizeQ8(e32.k[l] as Uint8Array, 32);
      expect(Array.from(entry.k[l])).toEqual(Array.from(quantizeQ8(held, 8)));
    }
    expect(cache8.stats().bytes).toBe(
      4 * (2 * 6 + e32.sketch.length) + 2 * MODEL.numLayers * 6 * (32 / 8) * 12,
    );
    // and back: a cache in groups of 32 takes the group-8 entry, converted again
    const cache32 = new MemoryTier({ ...Q8_MODEL, kvDtype: 'q8', q8Group: 32, budgetBytes: 1 << 20 });
    const back = cache32.store(decodeEntry(encodeEntry(entry), Q8_MODEL)).entry;
    expect(back.q8Group).toBe(32);
    expect(Array.from(back.v[1])).toEqual(
      Array.from(quantizeQ8(dequantizeQ8(entry.v[1] as Uint8Array, 8), 32)),
    );
    // a version-2 (indexed) pack carries the group in each entry's header too
    const [fromV2] = await decodeIndexedPack(await encodeIndexedPack([entry], MODEL.fingerprint), Q8_MODEL);
    expect([fromV2.q8Group, Array.from(fromV2.k[0])]).toEqual([8, Array.from(entry.k[0])]);
    // an entry already in the cache's group is kept as it is
    expect(cache8.store(entry).entry).toBe(entry);
    expect(conformEntry(e32, 'f32', undefined).q8Group).toBeUndefined();
  });

  it('a q8 header over f16 data is refused; q8 needs kvDim % G == 0', () => {
    const bytes = encodeEntry(conformEntry(testEntry('mix', 5, { model: Q8_MODEL }), 'f16', undefined));
    new DataView(bytes.buffer).setUint32(36, 2, true);
    new DataView(bytes.buffer).setUint32(bytes.length - 4, crc32(bytes, 0, bytes.length - 4), true);
    expect(() => decodeEntry(bytes, Q8_MODEL)).toThrow(/length mismatch/);
    const narrow = encodeEntry(testEntry('n', 4)); // kvDim 8
    new DataView(narrow.buffer).setUint32(36, 2, true);
    new DataView(narrow.buffer).setUint32(narrow.length - 4, crc32(narrow, 0, narrow.length - 4), true);
    expect(() => decodeEntry(narrow, MODEL)).toThrow(/q8 in groups of 32 with kvDim 8/);
    const e = testEntry('lie', 4);
    e.dtype = 'q8';
    e.q8Group = 32;
    expect(() => encodeEntry(e)).toThrow(/divides kvDim 8 \(got 32\)/);
  });

  it.each([32, 8])(
    'validates q8 scales in groups of %i: a NaN, negative or too large scale is refused',
    (G) => {
      for (const [s, what] of [
        [Number.NaN, 'NaN'],
        [-1, '-1'],
        [1000, '1000'],
      ] as const) {
        const e = q8Entry('bad', 4, G);
        const a = e.v[1] as Uint8Array;
        const g = 2 * (32 / G) - 1; // row 1's last group
        new DataView(a.buffer, a.byteOffset).setFloat32(g * (G + 4) + G, s, true);
        expect(() => decodeEntry(encodeEntry(e), Q8_MODEL)).toThrow(
          new RegExp(`v\\[1\\] has the q8 scale ${what} .* at row 1, columns ${32 - G}..31`),
        );
      }
    },
  );

  it('a q8 cache quantizes an f32 (version-1) entry; an f32 cache dequantizes a q8 pack exactly', () => {
    const e = testEntry('v1', 12, { model: Q8_MODEL });
    const q8Cache = new MemoryTier({ ...Q8_MODEL, kvDtype: 'q8', q8Group: 32, budgetBytes: 1 << 20 });
    const { entry } = q8Cache.store(decodeEntry(asVersion1(encodeEntry(e)), Q8_MODEL));
    expect(entry.dtype).toBe('q8');
    expect(Array.from(entry.k[1])).toEqual(Array.from(quantizeQ8(e.k[1] as Float32Array, 32)));
    const kv = 2 * MODEL.numLayers * 12 * Q8_MODEL.kvDim;
    expect(q8Cache.stats().bytes).toBe(4 * (2 * 12 + e.sketch.length) + (kv * 9) / 8);
    const f32Cache = new MemoryTier({ ...Q8_MODEL, kvDtype: 'f32', budgetBytes: 1 << 20 });
    const [fromPack] = decodePack(encodePack([entry], MODEL.fingerprint), Q8_MODEL);
    expect(fromPack.dtype).toBe('q8');
    const wide = f32Cache.store(fromPack).entry;
    expect(wide.dtype).toBe('f32');
    expect(Array.from(wide.v[0])).toEqual(Array.from(dequantizeQ8(entry.v[0] as Uint8Array, 32)));
  });
});
