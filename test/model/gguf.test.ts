// GGUF loading on the CPU: block re-packing against llama.cpp's dequantization, the llama Q/K row
// order, config from metadata, fingerprints, URL loading with range requests, and bad files.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModelFormatError, UnsupportedArchitectureError } from '../../src/errors.ts';
import { dequantizeGgml, GGML_GPU_FORMAT, repackGgml } from '../../src/model/gguf/gguf-blocks.ts';
import { ggufLocation } from '../../src/model/gguf/gguf-load.ts';
import { GGML_TYPE_IDS, quantizeGgml } from '../../src/model/gguf/gguf-quantize.ts';
import { ggufTokenizerMetadata } from '../../src/model/gguf/gguf-vocab.ts';
import { type GgufKV, ggufFromModel, kvsFromJson } from '../../src/model/gguf/gguf-writer.ts';
import { loadModelFiles } from '../../src/model/load.ts';
import { loadModelTokenizer } from '../../src/model/tokenizer/model-tokenizer.ts';
import type { Tokenizer } from '../../src/model/tokenizer/tokenizer.ts';
import { dequantizeRows } from '../../src/model/weights/quantize.ts';
import { isQuantFormat } from '../../src/ops/weight-format.ts';
import { mulberry32 } from '../../src/util/prng.ts';
import { patchTensorType } from '../helpers/gguf-patch.ts';
import { KQUANT_QWEN2, randomTensors, tokenList, writeStoriesGguf } from '../helpers/gguf-writer-models.ts';
import { storiesDir } from '../helpers/models.ts';
import { serveFolder } from './serve.ts';

const tmp = mkdtempSync(join(tmpdir(), 'kvshare-gguf-cpu-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
let stories: Record<string, string>;
beforeAll(async () => {
  stories = await writeStoriesGguf(tmp, ['F32', 'Q8_0', 'Q4_0', 'Q5_0', 'BF16']);
});

function randomRows(rows: number, cols: number, seed: number): Float32Array {
  const rnd = mulberry32(seed);
  return new Float32Array(rows * cols).map(() => (rnd() * 2 - 1) * (rnd() < 0.05 ? 3 : 0.5));
}

describe('GGML blocks', () => {
  it.each(['Q8_0', 'Q4_0', 'Q4_1', 'Q5_0', 'Q4_K'] as const)(
    "%s re-packs bit-exactly: our dequantization of the re-packed words = llama.cpp's of the blocks",
    (type) => {
      const [rows, cols] = [5, 512];
      const x = randomRows(rows, cols, 3);
      const raw = quantizeGgml(x, type);
      const id = GGML_TYPE_IDS[type];
      const format = GGML_GPU_FORMAT[type];
      if (!isQuantFormat(format)) throw new Error('not a quantized format');
      const ours = dequantizeRows(repackGgml('w', raw, id, rows, cols), rows, cols, format);
      const ggml = dequantizeGgml(raw, id, rows * cols);
      // Equal values (+0 for −0: llama.cpp's d·0 with a negative d is −0, ours adds the zero min).
      expect(Array.from(ours, (v) => v + 0)).toEqual(Array.from(ggml, (v) => v + 0));
      let worst = 0;
      for (let i = 0; i < x.length; i++) worst = Math.max(worst, Math.abs(x[i] - ggml[i]));
      expect(worst).toBeLessThan(type === 'Q8_0' ? 0.02 : type === 'Q5_0' ? 0.15 : 0.3); // the test quantizer is sane
      expect(worst).toBeGreaterThan(0);
    },
  );

  it('Q6_K dequantizes close to the values it was made from', () => {
    const x = randomRows(2, 256, 9);
    const y = dequantizeGgml(quantizeGgml(x, 'Q6_K'), GGML_TYPE_IDS.Q6_K, x.length);
    let worst = 0;
    for (let i = 0; i < x.length; i++) worst = Math.max(worst, Math.abs(x[i] - y[i]));
    expect(worst).toBeLessThan(0.06);
  });

  it('a non-finite f16 scale is a ModelFormatError naming the tensor', () => {
    const raw = quantizeGgml(randomRows(1, 32, 1), 'Q8_0');
    raw[1] = 0x7c; // d = +Inf
    expect(() => repackGgml('blk.0.attn_q.weight', raw, 8, 1, 32)).toThrow(
      /blk\.0\.attn_q\.weight.*non-finite/,
    );
  });
});

describe('loading stories260K from GGUF', () => {
  it('finds the file name in paths and URLs', () => {
    expect(ggufLocation('/a/b/x.gguf')).toEqual({ base: '/a/b/', file: 'x.gguf' });
    expect(ggufLocation('x.GGUF')).toEqual({ base: '.', file: 'x.GGUF' });
    expect(ggufLocation('https://h/m/x.gguf?download=1')).toEqual({ base: 'https://h/m/', file: 'x.gguf' });
    expect(ggufLocation('/a/model')).toBeNull();
  });

  it('F32: config, every tensor (llama Q/K rows un-permuted) and the fingerprint equal the safetensors model', async () => {
    const st = await loadModelFiles(storiesDir());
    const g = await loadModelFiles(stories.F32);
    expect(g.config).toEqual(st.config);
    expect([...g.tensors.keys()].sort()).toEqual([...st.tensors.keys()].sort());
    for (const [name, t] of st.tensors) expect(g.tensors.get(name)?.data, name).toEqual(t.data);
    expect(g.fingerprint).toBe(st.fingerprint);
  });

  it('the fingerprint covers the GGUF type and quantize-on-load', async () => {
    const prints = new Set<string>();
    for (const type of ['F32', 'Q8_0', 'Q4_0', 'BF16'])
      prints.add((await loadModelFiles(stories[type])).fingerprint);
    prints.add((await loadModelFiles(stories.F32, { prep: { keep: 'gpu', quantize: 'q8' } })).fingerprint);
    expect(prints.size).toBe(5);
  });

  it('packs for the GPU: Q8_0 → q8, Q4_0 → q4, Q5_0 → q8, BF16 → bf16 (1-D tensors f32; ffn_down rows of 172 fell back to F16)', async () => {
    const fmt = async (type: string, name: string) =>
      (await loadModelFiles(stories[type], { prep: { keep: 'gpu' } })).tensors.get(name)?.packed?.format ??
      'f32';
    expect(await fmt('Q8_0', 'model.embed_tokens.weight')).toBe('q8');
    expect(await fmt('Q4_0', 'model.layers.2.self_attn.k_proj.weight')).toBe('q4');
    expect(await fmt('Q5_0', 'model.layers.2.self_attn.k_proj.weight')).toBe('q8');
    expect(await fmt('BF16', 'model.layers.2.mlp.up_proj.weight')).toBe('bf16');
    expect(await fmt('Q8_0', 'model.layers.2.mlp.down_proj.weight')).toBe('f16');
    expect(await fmt('Q8_0', 'model.norm.weight')).toBe('f32');
  });

  it('over HTTP: the header and then one range request per tensor, never the whole file', async () => {
    const server = await serveFolder(tmp);
    try {
      const local = await loadModelFiles(stories.Q8_0, { prep: { keep: 'gpu' } });
      const events: number[] = [];
      const remote = await loadModelFiles(`${server.url}stories-Q8_0.gguf`, {
        prep: { keep: 'gpu' },
        onProgress: (p) => {
          if (p.kind === 'fetch') events.push(p.loadedBytes);
        },
      });
      expect(remote.fingerprint).toBe(local.fingerprint);
      expect(remote.config).toEqual(local.config);
      const gets = server.requests.filter((r) => r.path === 'stories-Q8_0.gguf' && r.method === 'GET');
      expect(gets.every((r) => r.range !== null && r.status === 206)).toBe(true);
      expect(gets.length).toBe(1 + remote.tensors.size); // one header chunk (the file is < 2 MB), one per tensor
      expect(events.at(-1)).toBe(remote.totalBytes);
      expect(events.every((v, i) => i === 0 || v >= events[i - 1])).toBe(true);
    } finally {
      await server.close();
    }
  });
});

describe('the tokenizer of a GGUF file', () => {
  it('without tokenizer.json beside it: built from tokenizer.ggml.*, chat template from tokenizer.chat_template', async () => {
    const st = await loadModelFiles(storiesDir());
    const json = (f: string) => JSON.parse(readFileSync(join(storiesDir(), f), 'utf8'));
    const template = "{% for m in messages %}<{{ m['role'] }}>{{ m['content'] }}\n{% endfor %}";
    const meta = ggufTokenizerMetadata(json('tokenizer.json'), {
      ...json('tokenizer_config.json'),
      chat_template: template,
    });
    const dir = join(tmp, 'chat');
    mkdirSync(dir);
    const path = join(dir, 'stories-chat.gguf');
    writeFileSync(
      path,
      ggufFromModel(st.config, st.tensors, { type: 'Q8_0', tokenizerKVs: kvsFromJson(meta) }),
    );
    let tok: Tokenizer | undefined;
    await loadModelFiles(path, {
      beforeWeights: async (config, from) => {
        tok = await loadModelTokenizer(path, config, from);
      },
    });
    expect(tok?.hasChatTemplate).toBe(true);
    expect(tok?.renderChatTemplate([{ role: 'user', content: 'Hi' }])).toBe('<user>Hi\n');
    expect(tok?.encode('Once upon a time')).toEqual([1, 403, 407, 261, 378]);
  });
});

describe('bad GGUF files', () => {
  const cfg = KQUANT_QWEN2;
  const tokens = tokenList(join(storiesDir(), 'tokenizer.json'));
  const good = () => ggufFromModel(cfg, randomTensors(cfg, 1), { type: 'F32', tokens });
  const write = (name: string, bytes: Uint8Array) => {
    writeFileSync(join(tmp, name), bytes);
    return join(tmp, name);
  };

  it('bad magic and a cut-off header are ModelFormatErrors', async () => {
    const bytes = good();
    bytes.set(new TextEncoder().encode('GGUX'), 0);
    await expect(loadModelFiles(write('magic.gguf', bytes))).rejects.toThrow(ModelFormatError);
    await expect(loadModelFiles(write('magic.gguf', bytes))).rejects.toThrow(/magic/);
    await expect(loadModelFiles(write('cut-header.gguf', good().subarray(0, 40)))).rejects.toThrow(
      ModelFormatError,
    );
  });

  it('a file cut short in its tensor data fails from the header, naming a tensor', async () => {
    const bytes = good();
    const err = await loadModelFiles(write('cut.gguf', bytes.subarray(0, bytes.length - 1000))).catch(
      (e) => e,
    );
    expect(err).toBeInstanceOf(ModelFormatError);
    expect(err.message).toMatch(/truncated: tensor \S+ needs bytes/);
  });

  it('another architecture is UnsupportedArchitectureError', async () => {
    const bytes = ggufFromModel(cfg, randomTensors(cfg, 1), {
      type: 'F32',
      tokens,
      editKVs: (kvs) =>
        kvs.map((kv) => (kv.key === 'general.architecture' ? ({ ...kv, value: 'gpt2' } as GgufKV) : kv)),
    });
    await expect(loadModelFiles(write('gpt2.gguf', bytes))).rejects.toThrow(UnsupportedArchitectureError);
    await expect(loadModelFiles(write('gpt2.gguf', bytes))).rejects.toThrow(/"gpt2"/);
  });

  it('an unsupported tensor type is UnsupportedArchitectureError naming tensor and type, before any weight is requested', async () => {
    const bytes = patchTensorType(good(), 'output.weight', 13); // Q5_K
    expect(bytes.length).toBeGreaterThan(4_000_000); // weights well past the parser's first 2 MB chunk
    write('q5k.gguf', bytes);
    const server = await serveFolder(tmp);
    try {
      const err = await loadModelFiles(`${server.url}q5k.gguf`).catch((e) => e);
      expect(err).toBeInstanceOf(UnsupportedArchitectureError);
      expect(err.message).toMatch(/Tensor output\.weight .* Q5_K \(13\)/);
      const gets = server.requests.filter((r) => r.path === 'q5k.gguf' && r.method === 'GET');
      expect(gets.map((r) => r.range)).toEqual(['bytes=0-1999999']); // the header chunk only
    } finally {
      await server.close();
    }
  });

  it('a tensor whose rows are not whole blocks is a ModelFormatError', async () => {
    const bytes = patchTensorType(new Uint8Array(readFileSync(stories.F32)), 'blk.0.ffn_down.weight', 8);
    await expect(loadModelFiles(write('rows.gguf', bytes))).rejects.toThrow(
      /rows of 172 values are not whole Q8_0 blocks/,
    );
  });
});
