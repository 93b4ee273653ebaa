// GGUF files of the newer architectures on the CPU: Llama 3's rope_freqs tensor read into the
// config, linear RoPE scaling from metadata, Qwen3's q/k norms (no row permutation), and refusals.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ModelFormatError, UnsupportedArchitectureError } from '../../src/errors.ts';
import { parseConfig } from '../../src/model/config.ts';
import { convertToGguf } from '../../src/model/gguf/gguf-convert.ts';
import { type ConvertOptions, type GgufKV, ggufFromModel } from '../../src/model/gguf/gguf-writer.ts';
import { loadModelFiles } from '../../src/model/load.ts';
import { ropeAttentionFactor, ropeInvFreqs } from '../../src/model/rope-freqs.ts';
import { f32Values } from '../../src/model/types.ts';
import { ARCH_CONFIGS, ARCH_NAMES, writeArchModel } from '../helpers/arch-models.ts';
import { randomTensors, tokenList } from '../helpers/gguf-writer-models.ts';
import { storiesDir } from '../helpers/models.ts';

const tmp = mkdtempSync(join(tmpdir(), 'kvshare-gguf-arch-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const tokens = tokenList(join(storiesDir(), 'tokenizer.json'));

function write(name: keyof typeof ARCH_CONFIGS, file: string, opts: Partial<ConvertOptions> = {}): string {
  const cfg = parseConfig(ARCH_CONFIGS[name]);
  const path = join(tmp, file);
  writeFileSync(path, ggufFromModel(cfg, randomTensors(cfg, 3), { type: 'F32', tokens, ...opts }));
  return path;
}

const editKV = (key: string, value: string) => (kvs: GgufKV[]) =>
  kvs.map((kv) => (kv.key === key ? ({ ...kv, value } as GgufKV) : kv));

describe('GGUF architectures', () => {
  it("llama with rope_freqs.weight: its divisors become the config's ropeScaling (llama3's frequencies)", async () => {
    const files = await loadModelFiles(write('llama3', 'llama3.gguf'));
    const st = parseConfig(ARCH_CONFIGS.llama3);
    const scaling = files.config.ropeScaling;
    if (scaling?.type !== 'divisors') throw new Error(`expected divisors, got ${JSON.stringify(scaling)}`);
    expect(scaling.divisors).toHaveLength(st.headDim / 2);
    const want = ropeInvFreqs(st.headDim, st.ropeTheta, st.ropeScaling);
    const got = ropeInvFreqs(files.config.headDim, files.config.ropeTheta, scaling);
    for (const [i, w] of want.entries()) expect(got[i] / w).toBeCloseTo(1, 6);
    expect(Math.max(...scaling.divisors)).toBe(32);
    expect(Math.min(...scaling.divisors)).toBe(1);
    expect([...files.tensors.keys()].some((n) => n.includes('rope_freqs'))).toBe(false);
  });

  it('linear rope scaling from rope.scaling.type / rope.scaling.factor', async () => {
    const files = await loadModelFiles(write('llama-linear', 'linear.gguf'));
    expect(files.config.ropeScaling).toEqual({ type: 'linear', factor: 4 });
  });

  it('qwen3: q/k norms under their Hugging Face names, Q/K rows as stored (NEOX, no permutation)', async () => {
    const cfg = parseConfig(ARCH_CONFIGS.qwen3);
    const src = randomTensors(cfg, 3);
    const files = await loadModelFiles(write('qwen3', 'qwen3.gguf'));
    expect(files.config).toMatchObject({
      modelType: 'qwen3',
      qkNorm: true,
      headDim: 96,
      attentionBias: false,
    });
    for (const name of ['model.layers.1.self_attn.k_norm.weight', 'model.layers.0.self_attn.q_proj.weight']) {
      expect(Array.from(f32Values(files.tensors.get(name)!))).toEqual(Array.from(f32Values(src.get(name)!)));
    }
  });

  it("phi3: fused attn_qkv / ffn_up split at load, longrope from rope_factors_long/short and the metadata's attention factor", async () => {
    const cfg = parseConfig(ARCH_CONFIGS.phi3);
    const src = randomTensors(cfg, 3);
    const files = await loadModelFiles(write('phi3', 'phi3.gguf'));
    expect(files.config.rotaryDim).toBe(48);
    expect(files.config.ropeScaling).toMatchObject({ type: 'longrope', originalMaxPositions: 64 });
    if (files.config.ropeScaling?.type !== 'longrope' || cfg.ropeScaling?.type !== 'longrope')
      throw new Error('longrope');
    expect(files.config.ropeScaling.attentionFactor).toBeCloseTo(cfg.ropeScaling.attentionFactor, 6);
    expect(files.config.ropeScaling.longFactor).toEqual(
      Array.from(Float32Array.from(cfg.ropeScaling.longFactor)),
    );
    // gate_up_proj [2F, D]: gate = its first F rows, up the next F
    const D = cfg.hiddenSize;
    const F = cfg.intermediateSize;
    const fused = f32Values(src.get('model.layers.1.mlp.gate_up_proj.weight')!);
    expect(Array.from(f32Values(files.tensors.get('model.layers.1.mlp.up_proj.weight')!))).toEqual(
      Array.from(fused.subarray(F * D)),
    );
    // v_proj: the last KV·hd rows of qkv_proj (no rotary reorder); q_proj in partialRotaryRows order
    const kv = cfg.numKvHeads * cfg.headDim;
    const qkv = f32Values(src.get('model.layers.0.self_attn.qkv_proj.weight')!);
    expect(Array.from(f32Values(files.tensors.get('model.layers.0.self_attn.v_proj.weight')!))).toEqual(
      Array.from(qkv.subarray(qkv.length - kv * D)),
    );
    const q = f32Values(files.tensors.get('model.layers.0.self_attn.q_proj.weight')!);
    expect(Array.from(q.subarray(0, D))).toEqual(Array.from(qkv.subarray(0, D))); // row 0 stays
    expect(Array.from(q.subarray(32 * D, 33 * D))).toEqual(Array.from(qkv.subarray(24 * D, 25 * D))); // pair of 0
    expect(files.tensors.has('model.layers.0.self_attn.qkv_proj.weight')).toBe(false);
  });

  it('refuses other RoPE scaling types and architectures by name, before any weight is read', async () => {
    const yarn = write('llama', 'yarn.gguf', {
      editKVs: (kvs) => [...kvs, { key: 'llama.rope.scaling.type', type: 'STRING', value: 'yarn' }],
    });
    await expect(loadModelFiles(yarn)).rejects.toThrow(UnsupportedArchitectureError);
    await expect(loadModelFiles(yarn)).rejects.toThrow(/yarn/);
    for (const arch of ['gemma', 'starcoder2']) {
      const path = write('llama', `${arch}.gguf`, { editKVs: editKV('general.architecture', arch) });
      await expect(loadModelFiles(path)).rejects.toThrow(new RegExp(`"${arch}"`));
    }
  });

  it('a rope_freqs.weight of the wrong length is a ModelFormatError; beside linear scaling, unsupported', async () => {
    // head size 32 in the metadata: 16 frequencies, but the tensor holds the 32 of head_dim 64
    const wrong = write('llama3', 'freqs-len.gguf', {
      editKVs: (kvs) =>
        kvs.map((kv) =>
          kv.key === 'llama.attention.key_length' || kv.key === 'llama.rope.dimension_count'
            ? ({ ...kv, value: 32 } as GgufKV)
            : kv,
        ),
    });
    await expect(loadModelFiles(wrong)).rejects.toThrow(ModelFormatError);
    await expect(loadModelFiles(wrong)).rejects.toThrow(/rope_freqs\.weight must be F32 \[16\]/);
    const both = write('llama3', 'freqs-linear.gguf', {
      editKVs: (kvs) => [
        ...kvs,
        { key: 'llama.rope.scaling.type', type: 'STRING', value: 'linear' },
        { key: 'llama.rope.scaling.factor', type: 'FLOAT32', value: 2 },
      ],
    });
    await expect(loadModelFiles(both)).rejects.toThrow(UnsupportedArchitectureError);
    await expect(loadModelFiles(both)).rejects.toThrow(/rope_freqs/);
  });
});

describe('kvshare convert of each architecture', () => {
  it.each(ARCH_NAMES)(
    '%s: the converted F32 GGUF loads to the tensors of its safetensors folder',
    async (arch) => {
      const { folder } = await writeArchModel(arch, tmp, []);
      const path = join(tmp, `${arch}-converted.gguf`);
      writeFileSync(path, await convertToGguf(folder, { type: 'f32' }));
      const [st, gguf] = [await loadModelFiles(folder), await loadModelFiles(path)];
      // the same config but for how the RoPE scaling is written down (Llama 3: divisors; f32 factors)
      const { ropeScaling: gs, ...g } = gguf.config;
      const { ropeScaling: ss, ...c } = st.config;
      // Mistral goes to GGUF as llama, which has no window (llama.cpp ignores Mistral's)
      if (arch === 'mistral') {
        expect([c.slidingWindow, g.modelType]).toEqual([48, 'llama']);
        delete c.slidingWindow;
        c.modelType = 'llama';
      }
      expect(g).toEqual(c);
      const freqs = (x: typeof st.config, s: typeof ss) =>
        ropeInvFreqs(x.headDim, x.ropeTheta, s, { rotaryDim: x.rotaryDim, contextLength: 256 });
      const [fg, fs] = [freqs(gguf.config, gs), freqs(st.config, ss)];
      for (const [i, f] of fs.entries()) expect(fg[i]).toBeCloseTo(f, 6);
      expect(ropeAttentionFactor(gs)).toBeCloseTo(ropeAttentionFactor(ss), 6);
      expect([...gguf.tensors.keys()].sort()).toEqual([...st.tensors.keys()].sort());
      for (const [name, t] of st.tensors) expect(gguf.tensors.get(name)?.data, name).toEqual(t.data);
    },
  );
});
