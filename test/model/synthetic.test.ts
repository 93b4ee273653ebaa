import { readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { afterAll, describe, expect, it } from 'vitest';
import { SYNTHETIC_SHAPES, writeSyntheticModel } from '../../src/cli/synthetic/synthetic.ts';
import { InvalidArgumentError } from '../../src/errors.ts';
import { parseConfig } from '../../src/model/config.ts';
import { expectedTensors } from '../../src/model/layout.ts';
import { loadModelFiles } from '../../src/model/load.ts';
import { readHeaders } from '../../src/model/safetensors/safetensors.ts';
import { openModelSource } from '../../src/model/source/source.ts';
import { f32Values, type LoadProgress } from '../../src/model/types.ts';

const root = `${tmpdir()}/kvshare-synth-${process.pid}`;
afterAll(() => rm(root, { recursive: true, force: true }));

describe('writeSyntheticModel', () => {
  it('writes a tiny Qwen2 (biases, untied head) that loads with the preset shapes', async () => {
    const out = `${root}/tiny-qwen2`;
    const r = await writeSyntheticModel({ shape: 'tiny-qwen2', out, seed: 3 });
    expect(r.files.sort()).toEqual([
      'config.json',
      'model.safetensors',
      'tokenizer.json',
      'tokenizer_config.json',
    ]);
    const m = await loadModelFiles(out);
    expect(m.config).toEqual(r.config);
    expect(m.config).toMatchObject({
      modelType: 'qwen2',
      attentionBias: true,
      tieWordEmbeddings: false,
      vocabSize: 512,
      hiddenSize: 64,
      intermediateSize: 160,
      numLayers: 2,
      numHeads: 4,
      numKvHeads: 2,
      headDim: 16,
      bosTokenId: 1,
      eosTokenIds: [2],
    });
    expect([...m.tensors.keys()].sort()).toEqual([...expectedTensors(m.config).keys()].sort());
    expect(m.tensors.get('model.layers.1.self_attn.k_proj.bias')!.shape).toEqual([32]);
    expect(m.tensors.get('lm_head.weight')!.shape).toEqual([512, 64]);
    // N(0, 0.02) projections and norms near 1.
    const w = f32Values(m.tensors.get('model.layers.0.mlp.up_proj.weight')!);
    const mean = w.reduce((a, b) => a + b, 0) / w.length;
    const std = Math.sqrt(w.reduce((a, b) => a + (b - mean) ** 2, 0) / w.length);
    expect(Math.abs(mean)).toBeLessThan(0.002);
    expect(std).toBeGreaterThan(0.018);
    expect(std).toBeLessThan(0.022);
    const norm = f32Values(m.tensors.get('model.norm.weight')!);
    expect(norm.every((x) => Math.abs(x - 1) < 0.15)).toBe(true);
  });

  it('is deterministic per seed', async () => {
    const a = await writeSyntheticModel({ shape: 'tiny-llama', out: `${root}/seed-a`, seed: 7 });
    await writeSyntheticModel({ shape: 'tiny-llama', out: `${root}/seed-b`, seed: 7 });
    await writeSyntheticModel({ shape: 'tiny-llama', out: `${root}/seed-c`, seed: 8 });
    const fa = (await loadModelFiles(`${root}/seed-a`)).fingerprint;
    expect((await loadModelFiles(`${root}/seed-b`)).fingerprint).toBe(fa);
    expect((await loadModelFiles(`${root}/seed-c`)).fingerprint).not.toBe(fa);
    expect(a.config).toMatchObject({
      modelType: 'llama',
      intermediateSize: 100,
      headDim: 8,
      tieWordEmbeddings: false,
    });
    const bytes = await readFile(`${root}/seed-a/model.safetensors`);
    expect(bytes.equals(await readFile(`${root}/seed-b/model.safetensors`))).toBe(true);
  });

  it('round-trips sharded BF16 and F16 checkpoints to the F32 values within rounding', async () => {
    await writeSyntheticModel({ shape: 'tiny-qwen2', out: `${root}/f32`, seed: 5 });
    const bf = await writeSyntheticModel({
      shape: 'tiny-qwen2',
      out: `${root}/bf16`,
      seed: 5,
      dtype: 'BF16',
      shards: 3,
    });
    await writeSyntheticModel({ shape: 'tiny-qwen2', out: `${root}/f16`, seed: 5, dtype: 'F16', shards: 2 });
    expect(bf.files.filter((f) => f.endsWith('.safetensors')).sort()).toEqual([
      'model-00001-of-00003.safetensors',
      'model-00002-of-00003.safetensors',
      'model-00003-of-00003.safetensors',
    ]);
    const headers = await readHeaders(openModelSource(`${root}/bf16`));
    expect(headers.sharded).toBe(true);
    expect(headers.files).toHaveLength(3);
    expect(headers.files.every((f) => f.tensors.length > 0)).toBe(true);

    const events: LoadProgress[] = [];
    const ref = await loadModelFiles(`${root}/f32`);
    const b16 = await loadModelFiles(`${root}/bf16`, { onProgress: (p) => events.push(p) });
    const h16 = await loadModelFiles(`${root}/f16`);
    expect(b16.config).toEqual(ref.config);
    expect(b16.tensors.size).toBe(ref.tensors.size);
    for (const [name, t] of ref.tensors) {
      const b = b16.tensors.get(name)!;
      const h = h16.tensors.get(name)!;
      expect(b.dtype).toBe('BF16');
      expect(h.dtype).toBe('F16');
      expect(b.shape).toEqual(t.shape);
      let bfBad = 0;
      let f16Bad = 0;
      const [tv, bv, hv] = [t, b, h].map(f32Values);
      for (let i = 0; i < tv.length; i++) {
        const x = tv[i];
        if (!(Math.abs(bv[i] - x) <= Math.abs(x) * 2 ** -8)) bfBad++;
        if (!(Math.abs(hv[i] - x) <= Math.max(Math.abs(x) * 2 ** -11, 2 ** -25))) f16Bad++;
      }
      expect({ name, bfBad, f16Bad }).toEqual({ name, bfBad: 0, f16Bad: 0 });
      expect(b.data).not.toEqual(t.data); // really rounded, not a copy of the f32 values
    }
    expect(b16.fingerprint).not.toBe(ref.fingerprint);

    // Progress spans all three shards, never goes back, and ends at the sum of their sizes.
    const fetches = events.filter((e) => e.kind === 'fetch');
    expect(new Set(fetches.map((e) => e.file)).size).toBe(3);
    fetches.forEach((e, i) => {
      if (i > 0) expect(e.loadedBytes).toBeGreaterThanOrEqual(fetches[i - 1].loadedBytes);
    });
    expect(fetches.at(-1)!.loadedBytes).toBe(b16.totalBytes);
    expect(b16.totalBytes).toBe(bf.weightBytes);
  });

  it('gives the same fingerprint whether or not a checkpoint is sharded', async () => {
    await writeSyntheticModel({ shape: 'tiny-llama', out: `${root}/one`, seed: 9, dtype: 'BF16' });
    await writeSyntheticModel({
      shape: 'tiny-llama',
      out: `${root}/four`,
      seed: 9,
      dtype: 'BF16',
      shards: 4,
    });
    const one = await loadModelFiles(`${root}/one`);
    const four = await loadModelFiles(`${root}/four`);
    expect(four.fingerprint).toBe(one.fingerprint);
  });

  it('replaces an earlier checkpoint in the same folder', async () => {
    const out = `${root}/rewrite`;
    await writeSyntheticModel({ shape: 'tiny-llama', out, shards: 2 });
    await writeSyntheticModel({ shape: 'tiny-llama', out });
    expect((await readdir(out)).filter((f) => f.startsWith('model')).sort()).toEqual(['model.safetensors']);
  });

  it('writes real SmolLM2-135M widths (one layer here to stay quick)', async () => {
    const out = `${root}/smol`;
    const r = await writeSyntheticModel({ shape: 'smollm2-135m', out, dtype: 'BF16', layers: 1 });
    expect(r.config).toMatchObject({
      vocabSize: 49152,
      hiddenSize: 576,
      numHeads: 9,
      numKvHeads: 3,
      headDim: 64,
    });
    expect(r.config).toMatchObject({
      numLayers: 1,
      tieWordEmbeddings: true,
      ropeTheta: 100000,
      maxPositions: 2048,
    });
    const h = await readHeaders(openModelSource(out));
    expect(h.tensors.find((t) => t.name === 'model.embed_tokens.weight')).toMatchObject({
      shape: [49152, 576],
      dtype: 'BF16',
    });
    expect(h.tensors.some((t) => t.name === 'lm_head.weight')).toBe(false);
  });

  it('has presets that parse as the real models', () => {
    const cfg = (name: keyof typeof SYNTHETIC_SHAPES) => {
      const { arch, ...rest } = SYNTHETIC_SHAPES[name];
      return parseConfig({ architectures: [arch], ...rest });
    };
    expect(cfg('smollm2-135m')).toMatchObject({ modelType: 'llama', numLayers: 30, intermediateSize: 1536 });
    expect(cfg('qwen2.5-0.5b')).toMatchObject({
      modelType: 'qwen2',
      vocabSize: 151936,
      hiddenSize: 896,
      intermediateSize: 4864,
      numLayers: 24,
      numHeads: 14,
      numKvHeads: 2,
      headDim: 64,
      attentionBias: true,
      tieWordEmbeddings: true,
      ropeTheta: 1e6,
      maxPositions: 32768,
    });
    expect(cfg('llama-3.2-1b')).toMatchObject({
      modelType: 'llama',
      vocabSize: 128256,
      hiddenSize: 2048,
      numLayers: 16,
      numHeads: 32,
      numKvHeads: 8,
      tieWordEmbeddings: true,
      ropeScaling: { type: 'llama3', factor: 32, originalMaxPositions: 8192 },
    });
    expect(cfg('qwen3-0.6b')).toMatchObject({
      modelType: 'qwen3',
      qkNorm: true,
      attentionBias: false,
      hiddenSize: 1024,
      headDim: 128,
      numLayers: 28,
    });
    expect(cfg('tiny-llama')).toMatchObject({
      hiddenSize: 48,
      intermediateSize: 100,
      numHeads: 6,
      numKvHeads: 2,
    });
  });

  it('rejects unknown shapes', async () => {
    // @ts-expect-error: not a shape
    await expect(writeSyntheticModel({ shape: 'gpt2', out: `${root}/x` })).rejects.toThrow(
      InvalidArgumentError,
    );
  });
});
