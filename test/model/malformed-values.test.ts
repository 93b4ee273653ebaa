// Issue 20 findings 4, 5, 6 and 9: values a model file may hold that used to give a raw RangeError,
// the wrong error code or a silently broken model now give ModelFormatError (MODEL_FILE_MALFORMED).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ModelFormatError } from '../../src/errors.ts';
import { parseConfig } from '../../src/model/config.ts';
import { type GgufKV, ggufFromModel } from '../../src/model/gguf/gguf-writer.ts';
import { loadModelFiles } from '../../src/model/load.ts';
import { f32Values } from '../../src/model/types.ts';
import { patchTensorOffset, tensorOffset } from '../helpers/gguf-patch.ts';
import { KQUANT_QWEN2, randomTensors, tokenList } from '../helpers/gguf-writer-models.ts';
import { storiesDir } from '../helpers/models.ts';

const tmp = mkdtempSync(join(tmpdir(), 'kvshare-malformed-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const cfg = KQUANT_QWEN2;
const tokens = tokenList(join(storiesDir(), 'tokenizer.json'));
const write = (name: string, bytes: Uint8Array) => {
  writeFileSync(join(tmp, name), bytes);
  return join(tmp, name);
};
/** The test GGUF with metadata `key` set (type kept unless given), or removed when value is undefined. */
function withKV(key: string, value: number | undefined, type?: GgufKV['type']): Uint8Array {
  return ggufFromModel(cfg, randomTensors(cfg, 1), {
    type: 'F32',
    tokens,
    editKVs: (kvs) => {
      const rest = kvs.filter((kv) => kv.key !== key);
      if (value === undefined) return rest;
      const old = kvs.find((kv) => kv.key === key);
      return [...rest, { key, type: type ?? old?.type ?? 'UINT32', value } as GgufKV];
    },
  });
}
async function malformed(name: string, bytes: Uint8Array): Promise<ModelFormatError> {
  const err = await loadModelFiles(write(name, bytes)).catch((e: unknown) => e);
  expect(err, name).toBeInstanceOf(ModelFormatError);
  return err as ModelFormatError;
}

describe('finding 5: GGUF alignment, offsets and overlaps (gguf.cpp rules)', () => {
  it('general.alignment must be a power of two (3, 0, 2^31 + a huge one)', async () => {
    for (const a of [3, 48, 2 ** 31 + 1]) {
      const err = await malformed(`align-${a}.gguf`, withKV('general.alignment', a));
      expect(err.message).toMatch(/alignment|GGUF/);
    }
    // 2^31 is a power of two: its data section would start past the file's end.
    expect((await malformed('align-2^31.gguf', withKV('general.alignment', 2 ** 31))).message).toMatch(
      /truncated/,
    );
  });

  it('a tensor offset that is not a multiple of the alignment', async () => {
    const good = withKV('general.alignment', 32);
    const at = tensorOffset(good, 'blk.0.attn_q.weight');
    const err = await malformed('misaligned.gguf', patchTensorOffset(good, 'blk.0.attn_q.weight', at + 4));
    expect(err.message).toMatch(/not a multiple of the alignment 32/);
  });

  it('two tensors sharing bytes', async () => {
    const good = withKV('general.alignment', 32);
    const first = tensorOffset(good, 'token_embd.weight');
    const err = await malformed('overlap.gguf', patchTensorOffset(good, 'blk.0.attn_q.weight', first));
    expect(err.message).toMatch(/overlaps/);
  });

  it('the files the converter writes still load', async () => {
    const files = await loadModelFiles(write('good.gguf', withKV('general.alignment', 32)));
    expect(files.config.hiddenSize).toBe(cfg.hiddenSize);
  });
});

describe('finding 6: malformed head geometry is MODEL_FILE_MALFORMED, not "partial RoPE"', () => {
  const cases: [string, number | undefined][] = [
    ['qwen2.embedding_length', 0],
    ['qwen2.embedding_length', 7],
    ['qwen2.embedding_length', 2 ** 31],
    ['qwen2.attention.head_count', 0],
    ['qwen2.attention.head_count', 5],
    ['qwen2.attention.key_length', 0],
  ];
  it.each(cases)('%s = %s', async (key, value) => {
    const err = await malformed(`${key}-${value}.gguf`, withKV(key, value));
    expect(err.code).toBe('MODEL_FILE_MALFORMED');
  });
});

describe('finding 9: float config fields finite as f32 and in range', () => {
  const base = {
    model_type: 'llama',
    hidden_size: 64,
    intermediate_size: 128,
    num_hidden_layers: 1,
    num_attention_heads: 4,
    max_position_embeddings: 128,
    vocab_size: 100,
  };
  it.each([
    ['rms_norm_eps', 1e308],
    ['rms_norm_eps', 1e39],
    ['rms_norm_eps', 1e-50],
    ['rms_norm_eps', 0],
    ['rms_norm_eps', 2],
    ['rope_theta', 1e39],
    ['rope_theta', 0.5],
    ['rope_theta', -1],
  ])('%s = %s', (key, value) => {
    expect(() => parseConfig({ ...base, [key]: value })).toThrow(ModelFormatError);
  });
  it('real values pass', () => {
    const c = parseConfig({ ...base, rms_norm_eps: 1e-5, rope_theta: 500000 });
    expect([c.rmsNormEps, c.ropeTheta]).toEqual([1e-5, 500000]);
  });
  it('a GGUF whose epsilon is 1e308 (f64) is refused', async () => {
    await malformed('eps.gguf', withKV('qwen2.attention.layer_norm_rms_epsilon', 1e308, 'FLOAT64'));
  });
});

describe('finding 4: quantize-on-load of finite but huge weights', () => {
  it.each([
    ['q8', 1e7],
    ['q4', 6e5],
  ] as const)('%s with a weight of %s is ModelFormatError', async (quantize, big) => {
    const tensors = randomTensors(cfg, 1);
    const q = [...tensors.values()].find((t) => t.shape.length === 2 && t.name.includes('q_proj'));
    if (!q) throw new Error('no q_proj');
    f32Values(q)[0] = big;
    const path = write(`big-${quantize}.gguf`, ggufFromModel(cfg, tensors, { type: 'F32', tokens }));
    const err = await loadModelFiles(path, { prep: { keep: 'gpu', quantize } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelFormatError);
    expect((err as Error).message).toMatch(/cannot be quantized/);
  });
});
