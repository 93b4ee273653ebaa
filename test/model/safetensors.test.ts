import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModelFileMissingError, ModelFormatError } from '../../src/errors.ts';
import {
  parseSafetensors,
  parseSafetensorsHeader,
  readHeaderLength,
  readHeaders,
  readSafetensorsHeader,
} from '../../src/model/safetensors/safetensors.ts';
import { buildSafetensorsHeader } from '../../src/model/safetensors/safetensors-writer.ts';
import { openModelSource } from '../../src/model/source/source.ts';
import { f32Values } from '../../src/model/types.ts';
import { storiesDir } from '../helpers/models.ts';

/** A whole safetensors file from a raw JSON header string and data bytes. */
function fileOf(header: string, data: Uint8Array = new Uint8Array(0)): Uint8Array {
  const json = new TextEncoder().encode(header);
  const out = new Uint8Array(8 + json.byteLength + data.byteLength);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.byteLength), true);
  out.set(json, 8);
  out.set(data, 8 + json.byteLength);
  return out;
}

const u16 = (bits: number[]) => new Uint8Array(new Uint16Array(bits).buffer);

describe('parseSafetensors', () => {
  it('decodes F32, F16 and BF16 tensors to f32', () => {
    const f32 = new Uint8Array(new Float32Array([1.5, -2]).buffer);
    const f16 = u16([0x3c00, 0x0001, 0xfc00]);
    const bf16 = u16([0x3f80, 0x4049]);
    const data = new Uint8Array([...f32, ...f16, ...bf16]);
    const header = JSON.stringify({
      __metadata__: { format: 'pt' },
      a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] },
      b: { dtype: 'F16', shape: [3, 1], data_offsets: [8, 14] },
      c: { dtype: 'BF16', shape: [1, 2], data_offsets: [14, 18] },
    });
    const t = parseSafetensors(fileOf(header, data));
    expect([...f32Values(t.get('a')!)]).toEqual([1.5, -2]);
    expect([...f32Values(t.get('b')!)]).toEqual([1, 2 ** -24, Number.NEGATIVE_INFINITY]);
    expect(t.get('b')!.shape).toEqual([3, 1]);
    expect(t.get('b')!.dtype).toBe('F16');
    expect([...f32Values(t.get('c')!)]).toEqual([1, 3.140625]);
  });

  it('reads headers written by buildSafetensorsHeader (padded to 8 bytes)', () => {
    const head = buildSafetensorsHeader([
      { name: 'x', shape: [3], dtype: 'F16' },
      { name: 'y', shape: [0, 4], dtype: 'F32' },
    ]);
    expect(head.byteLength % 8).toBe(0);
    const parsed = parseSafetensors(new Uint8Array([...head, ...u16([0x3c00, 0x3c00, 0x3c00])]));
    expect([...f32Values(parsed.get('x')!)]).toEqual([1, 1, 1]);
    expect(f32Values(parsed.get('y')!).length).toBe(0);
  });
});

describe('malformed safetensors', () => {
  const bad =
    (header: string, dataBytes = 16) =>
    () =>
      parseSafetensors(fileOf(header, new Uint8Array(dataBytes)));

  it.each([
    ['bad JSON', '{"a": {"dtype": "F32",', /not valid JSON/],
    ['a JSON array', '[1,2]', /JSON object/],
    ['offsets past the end', '{"a":{"dtype":"F32","shape":[8],"data_offsets":[0,32]}}', /past the end/],
    ['wrong length for shape', '{"a":{"dtype":"F32","shape":[2,3],"data_offsets":[0,16]}}', /needs 24 B/],
    ['end before begin', '{"a":{"dtype":"F32","shape":[0],"data_offsets":[8,4]}}', /end before/],
    [
      'an unsupported dtype',
      '{"w.q":{"dtype":"I64","shape":[2],"data_offsets":[0,16]}}',
      /tensor w\.q has dtype I64/,
    ],
    ['a missing dtype', '{"a":{"shape":[2],"data_offsets":[0,8]}}', /dtype is missing/],
    ['a negative dim', '{"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}}', /shape/],
    ['bad data_offsets', '{"a":{"dtype":"F32","shape":[2],"data_offsets":[0]}}', /data_offsets/],
    [
      'overlapping tensors',
      '{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}',
      /overlap/,
    ],
    ['bad metadata', '{"__metadata__":{"n":1}}', /__metadata__/],
  ])('rejects %s with ModelFormatError', (_, header, message) => {
    expect(bad(header)).toThrow(ModelFormatError);
    expect(bad(header)).toThrow(message);
  });

  it('rejects a header length that runs past the file', () => {
    const f = fileOf('{}');
    new DataView(f.buffer).setBigUint64(0, 1000n, true);
    expect(() => parseSafetensors(f)).toThrow(/header length 1000 B does not fit/);
    expect(() => readHeaderLength(new Uint8Array(4), 4, 'x.safetensors')).toThrow(ModelFormatError);
  });

  it('names the file in header errors', () => {
    expect(() => parseSafetensorsHeader('nope', 100, 'model-00002-of-00003.safetensors')).toThrow(
      /model-00002-of-00003\.safetensors/,
    );
  });
});

describe('readHeaders', () => {
  let dir = '';
  beforeAll(async () => {
    dir = await mkdtemp(`${tmpdir()}/kvshare-st-`);
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('reads the 47 stories260K headers without reading tensor data', async () => {
    const h = await readHeaders(openModelSource(storiesDir()));
    expect(h.sharded).toBe(false);
    expect(h.tensors).toHaveLength(47);
    expect(h.tensors.every((t) => t.dtype === 'F32')).toBe(true);
    expect(h.files[0].metadata).toEqual({ format: 'pt' });
    expect(h.files[0].dataStart).toBe(8 + 4856);
    expect(h.totalBytes).toBe(1044992);
    const names = h.tensors.map((t) => t.name);
    expect(names).toEqual([...names].sort());
    expect(h.tensors.find((t) => t.name === 'model.layers.0.self_attn.k_proj.weight')!.shape).toEqual([
      32, 64,
    ]);
  });

  it('reports a missing checkpoint and checks the shard index', async () => {
    await expect(readHeaders(openModelSource(dir))).rejects.toThrow(ModelFileMissingError);
    await expect(readHeaders(openModelSource(dir))).rejects.toThrow(/model\.safetensors/);

    const shard = fileOf('{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}', new Uint8Array(4));
    await writeFile(`${dir}/model-00001-of-00001.safetensors`, shard);
    const index = (map: Record<string, string>) =>
      writeFile(`${dir}/model.safetensors.index.json`, JSON.stringify({ weight_map: map }));

    await index({ a: 'model-00001-of-00001.safetensors' });
    expect((await readHeaders(openModelSource(dir))).tensors.map((t) => t.name)).toEqual(['a']);

    await index({ a: 'model-00001-of-00001.safetensors', b: 'model-00001-of-00001.safetensors' });
    await expect(readHeaders(openModelSource(dir))).rejects.toThrow(/lists tensor b/);

    await index({ a: '../model-00001-of-00001.safetensors' });
    await expect(readHeaders(openModelSource(dir))).rejects.toThrow(ModelFormatError);

    await index({ a: 'model-00009-of-00009.safetensors' });
    await expect(readHeaders(openModelSource(dir))).rejects.toThrow(ModelFileMissingError);
  });

  it('rejects a truncated file', async () => {
    const full = fileOf('{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}', new Uint8Array(16));
    await writeFile(`${dir}/cut.safetensors`, full.subarray(0, 20));
    await expect(readSafetensorsHeader(openModelSource(dir), 'cut.safetensors')).rejects.toThrow(
      ModelFormatError,
    );
  });
});
