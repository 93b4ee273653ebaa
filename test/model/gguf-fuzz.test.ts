// Hostile GGUF headers and metadata (issue 20): seeded byte flips of the header, and targeted values
// for sizes, alignments, tensor offsets, dims/types and head geometry. Every file either loads with
// exactly the original tensors or fails with a typed error; the good file still loads after each
// family. Prints one line per family: tried / wrong / crashed / lost.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KVShareError } from '../../src/errors.ts';
import { readGgufHeader } from '../../src/model/gguf/gguf-header.ts';
import { type GgufKV, ggufFromModel } from '../../src/model/gguf/gguf-writer.ts';
import { loadModelFiles } from '../../src/model/load.ts';
import { openModelSource } from '../../src/model/source/source.ts';
import { f32Values, type HostTensor } from '../../src/model/types.ts';
import { mulberry32 } from '../../src/util/prng.ts';
import { patchTensorOffset, patchTensorType, tensorOffset } from '../helpers/gguf-patch.ts';
import { tokenList } from '../helpers/gguf-writer-models.ts';
import { storiesDir } from '../helpers/models.ts';

const FLIPS = 150;
const tmp = mkdtempSync(join(tmpdir(), 'kvshare-gguf-fuzz-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

let good: Uint8Array;
let dataStart: number;
let original: Map<string, HostTensor>;
let build: (edit?: (kvs: GgufKV[]) => GgufKV[]) => Uint8Array;
const TENSORS = ['token_embd.weight', 'blk.0.attn_q.weight', 'blk.0.ffn_down.weight', 'output_norm.weight'];

beforeAll(async () => {
  const st = await loadModelFiles(storiesDir());
  const tokens = tokenList(join(storiesDir(), 'tokenizer.json'));
  build = (editKVs) => ggufFromModel(st.config, st.tensors, { type: 'F32', tokens, editKVs });
  good = build();
  const path = join(tmp, 'good.gguf');
  writeFileSync(path, good);
  dataStart = (await readGgufHeader(openModelSource(tmp), 'good.gguf')).dataStart;
  original = (await loadModelFiles(path)).tensors;
}, 60_000);

type Tally = { tried: number; wrong: number; crashed: number; lost: number };

function sameTensors(a: Map<string, HostTensor>, b: Map<string, HostTensor>): boolean {
  if (a.size !== b.size) return false;
  for (const [name, t] of a) {
    const u = b.get(name);
    if (!u || u.shape.join() !== t.shape.join()) return false;
    const [x, y] = [f32Values(t), f32Values(u)];
    if (x.length !== y.length) return false;
    for (let i = 0; i < x.length; i++) if (!Object.is(x[i], y[i])) return false;
  }
  return true;
}

/** Loads each file; `mustRefuse`: loading at all is wrong. */
async function family(name: string, files: Uint8Array[], mustRefuse: boolean): Promise<Tally> {
  const tally: Tally = { tried: 0, wrong: 0, crashed: 0, lost: 0 };
  const notes: string[] = [];
  for (const [i, bytes] of files.entries()) {
    tally.tried++;
    const path = join(tmp, `m${i}.gguf`);
    writeFileSync(path, bytes);
    try {
      const loaded = await Promise.race([
        loadModelFiles(path),
        new Promise<never>((_, rej) => setTimeout(() => rej(new Error('timed out after 10 s')), 10_000)),
      ]);
      if (mustRefuse || !sameTensors(original, loaded.tensors)) {
        tally.wrong++;
        notes.push(`#${i}: loaded`);
      }
    } catch (e) {
      if (!(e instanceof KVShareError)) {
        tally.crashed++;
        notes.push(`#${i}: ${String(e)}`);
      }
    }
  }
  const again = await loadModelFiles(join(tmp, 'good.gguf'));
  if (!sameTensors(original, again.tensors)) tally.lost++;
  console.log(
    `gguf / ${name}: ${JSON.stringify(tally)}${notes.length ? ` ${notes.slice(0, 5).join('; ')}` : ''}`,
  );
  return tally;
}

const zero = (n: number): Tally => ({ tried: n, wrong: 0, crashed: 0, lost: 0 });

function setU64(file: Uint8Array, at: number, v: bigint): Uint8Array {
  const out = file.slice();
  new DataView(out.buffer).setBigUint64(at, v, true);
  return out;
}

/** Byte position just after the key `key` (its value type u32 comes next). */
function afterKey(file: Uint8Array, key: string): number {
  const needle = new TextEncoder().encode(key);
  const dv = new DataView(file.buffer, file.byteOffset, file.byteLength);
  for (let i = 8; i + needle.length < dataStart; i++) {
    if (dv.getBigUint64(i - 8, true) !== BigInt(needle.length)) continue;
    if (needle.every((b, k) => file[i + k] === b)) return i + needle.length;
  }
  throw new Error(`key ${key} not found`);
}

/** Sets dim `d` (row-major order, outermost first) of tensor `name`. */
function setDim(file: Uint8Array, name: string, d: number, v: bigint): Uint8Array {
  const at = afterKey(file, name);
  const dv = new DataView(file.buffer, file.byteOffset, file.byteLength);
  const dims = dv.getUint32(at, true);
  return setU64(file, at + 4 + 8 * (dims - 1 - d), v);
}

function withKV(key: string, type: GgufKV['type'], value: number | bigint | string): Uint8Array {
  return build((kvs) => [...kvs.filter((kv) => kv.key !== key), { key, type, value } as GgufKV]);
}

describe('hostile GGUF headers and metadata (category: gguf)', () => {
  it('seeded byte flips of the header and tensor infos', async () => {
    const rnd = mulberry32(20);
    const alignAt = afterKey(good, 'general.alignment') + 4;
    const files: Uint8Array[] = [];
    while (files.length < FLIPS) {
      const at = Math.floor(rnd() * dataStart);
      if (at >= alignAt && at < alignAt + 4) continue; // another power of two is a spec-valid layout
      const f = good.slice();
      f[at] = (f[at] + 1 + Math.floor(rnd() * 255)) & 255;
      files.push(f);
    }
    expect(await family('header byte flips', files, false)).toEqual(zero(FLIPS));
  }, 120_000);

  it('general.alignment: not a power of two, wrong types, past the file', async () => {
    const files = [
      ...[0, 3, 5, 24, 33, 48, 2 ** 31, 2 ** 32 - 1, 2 ** 31 + 1].map((a) =>
        withKV('general.alignment', 'UINT32', a),
      ),
      withKV('general.alignment', 'UINT64', 32n),
      withKV('general.alignment', 'STRING', '32'),
      withKV('general.alignment', 'INT32', -32),
    ];
    expect(await family('alignments', files, true)).toEqual(zero(files.length));
  }, 60_000);

  it('tensor offsets: misaligned, overlapping, gaps, past the file, 2^63', async () => {
    const files: Uint8Array[] = [];
    for (const name of TENSORS) {
      const at = tensorOffset(good, name);
      for (const o of [at + 1, at + 4, at + 16, at + 32, at - 32, 2 ** 40, Number.MAX_SAFE_INTEGER]) {
        if (o >= 0) files.push(patchTensorOffset(good, name, o));
      }
      files.push(
        setU64(
          good,
          afterKey(good, name) + 4 + 8 * new DataView(good.buffer).getUint32(afterKey(good, name), true) + 4,
          2n ** 63n,
        ),
      );
    }
    files.push(patchTensorOffset(good, 'blk.0.attn_q.weight', tensorOffset(good, 'token_embd.weight')));
    expect(await family('tensor offsets', files, true)).toEqual(zero(files.length));
  }, 60_000);

  it('tensor dims and types: zero, doubled, huge, unknown types', async () => {
    const files: Uint8Array[] = [];
    // The last tensor in the file may shrink to another type and still be a valid file (gguf.cpp
    // reads it the same way): types are changed only on tensors something follows.
    const last = TENSORS.reduce((a, b) => (tensorOffset(good, a) > tensorOffset(good, b) ? a : b));
    for (const name of TENSORS) {
      for (const v of [0n, 2n ** 40n, 2n ** 63n, 2n ** 64n - 1n]) files.push(setDim(good, name, 0, v));
      if (name !== last) for (const t of [1, 2, 30, 99, 2 ** 31]) files.push(patchTensorType(good, name, t));
    }
    expect(await family('tensor dims and types', files, true)).toEqual(zero(files.length));
  }, 60_000);

  it('sizes: tensor and key counts, string and array lengths', async () => {
    const tokensAt = afterKey(good, 'tokenizer.ggml.tokens');
    const files = [
      setU64(good, 8, 2n ** 40n), // tensor count
      setU64(good, 8, 2n ** 64n - 1n),
      setU64(good, 16, 2n ** 40n), // key count
      setU64(good, 16, 2n ** 63n),
      setU64(good, 24, 2n ** 40n), // the first key's length
      setU64(good, 24, 2n ** 64n - 1n),
      setU64(good, tokensAt + 8, 2n ** 40n), // the token list's length
      setU64(good, tokensAt + 8, 2n ** 32n),
      good.subarray(0, 30),
      good.subarray(0, dataStart - 1),
    ];
    expect(await family('sizes', files, true)).toEqual(zero(files.length));
  }, 60_000);

  it('head geometry and other counts in the metadata', async () => {
    const keys = [
      'llama.embedding_length',
      'llama.attention.head_count',
      'llama.attention.head_count_kv',
      'llama.attention.key_length',
      'llama.block_count',
      'llama.feed_forward_length',
      'llama.rope.dimension_count',
    ];
    const files: Uint8Array[] = [];
    for (const key of keys) for (const v of [0, 1, 7, 2 ** 31]) files.push(withKV(key, 'UINT32', v));
    for (const v of [1e308, Number.NaN, 0, -1])
      files.push(withKV('llama.attention.layer_norm_rms_epsilon', 'FLOAT64', v));
    for (const v of [1e39, 0]) files.push(withKV('llama.rope.freq_base', 'FLOAT64', v));
    // None of these describes the tensors as they are: each must be refused.
    expect(await family('geometry', files, true)).toEqual(zero(files.length));
  }, 120_000);
});
