import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { hfConfig, SYNTHETIC_SHAPES, type SyntheticShape } from '../../src/cli/synthetic/synthetic.ts';
import { parseConfig } from '../../src/model/config.ts';
import { expectedTensors } from '../../src/model/layout.ts';

const tokDir = new URL('../../assets/stories260K-hf/', import.meta.url);

/** The config.json `kvshare synth --shape <name>` writes (no weights), parsed as the engine does. */
async function synthConfig(name: SyntheticShape) {
  const tokJson = await readFile(new URL('tokenizer.json', tokDir), 'utf8');
  const tokCfg = await readFile(new URL('tokenizer_config.json', tokDir), 'utf8');
  const p = SYNTHETIC_SHAPES[name];
  const json = JSON.parse(hfConfig(p, p.num_hidden_layers, 'BF16', tokJson, tokCfg));
  return { json, config: parseConfig(json) };
}

describe('the Phi synth shapes (real configs, longrope)', () => {
  it('phi-3.5-mini parses as Phi-3.5-mini-instruct: 32 × 96-dim heads, full rotary, longrope [48]', async () => {
    const { json, config } = await synthConfig('phi-3.5-mini');
    expect(json).toMatchObject({
      model_type: 'phi3',
      architectures: ['Phi3ForCausalLM'],
      sliding_window: 262144,
    });
    expect(config).toMatchObject({
      modelType: 'phi3',
      vocabSize: 32064,
      hiddenSize: 3072,
      intermediateSize: 8192,
      numLayers: 32,
      numHeads: 32,
      numKvHeads: 32,
      headDim: 96,
      tieWordEmbeddings: false,
      maxPositions: 131072,
      ropeTheta: 10000,
    });
    expect(config.rotaryDim).toBeUndefined(); // all 96 dims rotate
    const s = config.ropeScaling;
    if (s?.type !== 'longrope') throw new Error(`expected longrope, got ${s?.type}`);
    expect(s.shortFactor).toHaveLength(config.headDim / 2);
    expect(s.longFactor).toHaveLength(config.headDim / 2);
    expect(s.longFactor[0]).toBeCloseTo(1.08, 6);
    expect(s.longFactor[47]).toBeCloseTo(64.84, 4);
    expect(s.shortFactor[47]).toBeCloseTo(2.84, 4);
    expect(s.originalMaxPositions).toBe(4096);
    expect(s.attentionFactor).toBeCloseTo(Math.sqrt(1 + Math.log(32) / Math.log(4096)), 12);
    // the checkpoint is fused: qkv_proj [(32 + 2·32)·96, 3072], gate_up_proj [2·8192, 3072], own lm_head
    const t = expectedTensors({ ...config, numLayers: 1 });
    expect(t.get('model.layers.0.self_attn.qkv_proj.weight')).toEqual([9216, 3072]);
    expect(t.get('model.layers.0.mlp.gate_up_proj.weight')).toEqual([16384, 3072]);
    expect(t.get('lm_head.weight')).toEqual([32064, 3072]);
  });

  it('phi-4-mini parses as Phi-4-mini-instruct: 24 × 128-dim heads (8 KV), 96 rotated dims, longrope [48]', async () => {
    const { config } = await synthConfig('phi-4-mini');
    expect(config).toMatchObject({
      modelType: 'phi3',
      vocabSize: 200064,
      hiddenSize: 3072,
      intermediateSize: 8192,
      numLayers: 32,
      numHeads: 24,
      numKvHeads: 8,
      headDim: 128,
      rotaryDim: 96, // partial_rotary_factor 0.75
      tieWordEmbeddings: true,
      maxPositions: 131072,
    });
    const s = config.ropeScaling;
    if (s?.type !== 'longrope') throw new Error(`expected longrope, got ${s?.type}`);
    const half = (config.rotaryDim ?? config.headDim) / 2;
    expect(half).toBe(48);
    expect(s.shortFactor).toHaveLength(half);
    expect(s.longFactor).toHaveLength(half);
    expect(s.shortFactor.every((f) => f === 1)).toBe(true);
    expect(s.longFactor[1]).toBeCloseTo(1.118320672, 9);
    expect(s.longFactor[47]).toBeCloseTo(47.77, 6);
    expect(s.originalMaxPositions).toBe(4096);
    // qkv_proj [(24 + 2·8)·128, 3072]; tied: no lm_head
    const t = expectedTensors({ ...config, numLayers: 1 });
    expect(t.get('model.layers.0.self_attn.qkv_proj.weight')).toEqual([5120, 3072]);
    expect(t.has('lm_head.weight')).toBe(false);
  });
});
