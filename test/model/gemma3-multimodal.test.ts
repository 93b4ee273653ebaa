// Gemma 3's multimodal folders (Gemma3ForConditionalGeneration, e.g. gemma-3-4b-it) load as their
// text model: config.json's text_config over the top level and Gemma3TextConfig's defaults, the
// tensors under language_model.model.* / model.language_model.* renamed, the vision tower left out.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/model/config.ts';
import { loadModelFiles } from '../../src/model/load.ts';
import { writeSafetensorsFile } from '../../src/model/safetensors/safetensors-writer.ts';
import { textModelName } from '../../src/model/text-model.ts';
import { f32Values } from '../../src/model/types.ts';
import { ARCH_CONFIGS, writeArchModel } from '../helpers/arch-models.ts';

const tmp = mkdtempSync(join(tmpdir(), 'kvshare-gemma3-mm-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('Gemma 3 multimodal folders', () => {
  it('names: the text model under its own names, vision tensors none', () => {
    expect(textModelName('language_model.model.layers.3.mlp.up_proj.weight')).toBe(
      'model.layers.3.mlp.up_proj.weight',
    );
    expect(textModelName('model.language_model.embed_tokens.weight')).toBe('model.embed_tokens.weight');
    expect(textModelName('language_model.lm_head.weight')).toBe('lm_head.weight');
    expect(textModelName('vision_tower.vision_model.post_layernorm.weight')).toBeNull();
    expect(textModelName('model.multi_modal_projector.mm_input_projection_weight')).toBeNull();
    expect(textModelName('model.norm.weight')).toBe('model.norm.weight');
  });

  it("gemma-3-4b-it's sparse text_config reads with Gemma3TextConfig's defaults", () => {
    const c = parseConfig({
      architectures: ['Gemma3ForConditionalGeneration'],
      model_type: 'gemma3',
      eos_token_id: [1, 106],
      text_config: {
        hidden_size: 2560,
        intermediate_size: 10240,
        model_type: 'gemma3_text',
        num_hidden_layers: 34,
        rope_scaling: { factor: 8.0, rope_type: 'linear' },
        sliding_window: 1024,
      },
      vision_config: { hidden_size: 1152, model_type: 'siglip_vision_model' },
    });
    expect(c).toMatchObject({
      modelType: 'gemma3',
      vocabSize: 262208,
      hiddenSize: 2560,
      numLayers: 34,
      numHeads: 8,
      numKvHeads: 4,
      headDim: 256,
      slidingWindow: 1024,
      slidingWindowPattern: 6,
      ropeTheta: 1000000,
      ropeLocalTheta: 10000,
      ropeScaling: { type: 'linear', factor: 8 },
      tieWordEmbeddings: true,
      eosTokenIds: [1, 106],
    });
  });

  it('a multimodal folder loads to the tensors and config of its text model', async () => {
    const text = await writeArchModel('gemma3', tmp, []);
    const mm = join(tmp, 'gemma3-mm');
    mkdirSync(mm);
    const { architectures: _, model_type: __, ...fields } = ARCH_CONFIGS.gemma3;
    writeFileSync(
      join(mm, 'config.json'),
      JSON.stringify({
        architectures: ['Gemma3ForConditionalGeneration'],
        model_type: 'gemma3',
        text_config: { ...fields, model_type: 'gemma3_text' },
        vision_config: { hidden_size: 32 },
      }),
    );
    for (const f of ['tokenizer.json', 'tokenizer_config.json'])
      writeFileSync(join(mm, f), readFileSync(join(text.folder, f)));
    const st = await loadModelFiles(text.folder);
    const vision = new Float32Array(64).fill(0.5); // [2, 32]
    await writeSafetensorsFile(join(mm, 'model.safetensors'), [
      {
        name: 'vision_tower.vision_model.patch.weight',
        shape: [2, 32],
        dtype: 'F32',
        values: (s, n) => vision.subarray(s, s + n),
      },
      ...[...st.tensors.values()].map((t) => {
        // as stored: Gemma's norms without the 1 the loader adds
        const v = t.name.endsWith('norm.weight') ? f32Values(t).map((x) => x - 1) : f32Values(t);
        return {
          name: t.name.replace(/^model\./, 'language_model.model.'),
          shape: t.shape,
          dtype: 'F32' as const,
          values: (s: number, n: number) => v.subarray(s, s + n),
        };
      }),
    ]);
    const loaded = await loadModelFiles(mm);
    expect(loaded.config).toEqual(st.config);
    expect([...loaded.tensors.keys()].sort()).toEqual([...st.tensors.keys()].sort());
    let worst = 0;
    for (const [name, t] of st.tensors) {
      const got = f32Values(loaded.tensors.get(name)!);
      for (const [i, x] of f32Values(t).entries()) worst = Math.max(worst, Math.abs(got[i] - x));
    }
    // norms went through (w + 1 − 1) + 1 in f32: equal within an f32 rounding of 1; the rest exactly
    expect(worst).toBeLessThanOrEqual(2 ** -23);
  });
});
