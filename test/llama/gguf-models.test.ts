// GGUF files on the GPU: stories260K converted to F32 / Q8_0 / Q4_0 (greedy against the golden ids,
// perplexity against F32), and a synthetic Qwen2 with biases as F16 / Q4_K / Q6_K against its
// safetensors twin (the same values, dequantized, in F32).
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { perplexity } from '../../src/cli/perplexity.ts';
import { nodeShaderLibrary } from '../../src/gpu/shaders-node.ts';
import { LlamaRunner } from '../../src/llama/runner.ts';
import { ggufFromModel } from '../../src/model/gguf/gguf-writer.ts';
import { type LoadedModelFiles, loadModelFiles } from '../../src/model/load.ts';
import { writeSafetensorsFile } from '../../src/model/safetensors/safetensors-writer.ts';
import { f32Values } from '../../src/model/types.ts';
import { KQUANT_QWEN2, randomTensors, tokenList, writeStoriesGguf } from '../helpers/gguf-writer-models.ts';
import { testGpu } from '../helpers/gpu.ts';
import { goldenPath, storiesDir } from '../helpers/models.ts';

const golden = JSON.parse(readFileSync(goldenPath(), 'utf8'));
const prompt: number[] = golden.prompt_ids_with_bos;
const storyIds: number[] = golden.unconditional_greedy_from_bos.ids;
const tmp = mkdtempSync(join(tmpdir(), 'kvshare-gguf-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

let stories: Record<string, string>;
beforeAll(async () => {
  stories = await writeStoriesGguf(join(tmp, 'stories'), ['F32', 'Q8_0', 'Q5_0', 'Q4_0']);
});

async function build(files: LoadedModelFiles, contextLength = 256): Promise<LlamaRunner> {
  return LlamaRunner.build(await testGpu(), nodeShaderLibrary(), files.config, files.tensors, {
    contextLength,
    maxRows: 16,
    maxLogitRows: 16,
  });
}

async function greedy(r: LlamaRunner, ids: number[], steps: number): Promise<number[]> {
  let out = await r.forward(ids.map((token, position) => ({ token, position })));
  const got: number[] = [];
  for (let pos = ids.length; got.length < steps; pos++) {
    got.push(out.ids[0]);
    out = await r.forward([{ token: out.ids[0], position: pos }]);
  }
  return got;
}

function maxDiff(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

describe('stories260K as GGUF', () => {
  it('F32: the greedy 64 tokens after "Once upon a time" are the golden ones', async () => {
    const r = await build(await loadModelFiles(stories.F32, { prep: { keep: 'gpu' } }));
    expect(await greedy(r, prompt, 64)).toEqual(golden.greedy_64_after_prompt.ids);
    r.destroy();
  });

  it('Q8_0: greedy equals F32 for the first 32 tokens; weights stay 8-bit on the GPU', async () => {
    const files = await loadModelFiles(stories.Q8_0, { prep: { keep: 'gpu' } });
    expect(files.tensors.get('model.layers.0.self_attn.q_proj.weight')?.packed?.format).toBe('q8');
    const r = await build(files);
    expect(await greedy(r, prompt, 32)).toEqual(golden.greedy_64_after_prompt.ids.slice(0, 32));
    r.destroy();
  });

  it('perplexity on the golden story: Q8_0 within 1% of F32, Q5_0 (as q8) within 5%, Q4_0 within 10%', async () => {
    const ppl: Record<string, number> = {};
    for (const type of ['F32', 'Q8_0', 'Q5_0', 'Q4_0']) {
      const r = await build(await loadModelFiles(stories[type], { prep: { keep: 'gpu' } }));
      ppl[type] = (await perplexity(r, storyIds, 256)).perplexity;
      r.destroy();
    }
    console.log(`stories260K GGUF perplexity: ${JSON.stringify(ppl)}`);
    expect(ppl.F32).toBeCloseTo(1.5774, 3); // the safetensors model's value
    expect(ppl.Q8_0 / ppl.F32).toBeLessThan(1.01);
    expect(ppl.Q5_0 / ppl.F32).toBeLessThan(1.05);
    expect(ppl.Q4_0 / ppl.F32).toBeLessThan(1.1);
    expect(new Set(Object.values(ppl)).size).toBe(4);
  });

  it('kvshare perplexity --model x.gguf reads the tokenizer beside the file', () => {
    const bin = fileURLToPath(new URL('../../bin/kvshare.js', import.meta.url));
    const text = join(tmp, 'story.txt');
    writeFileSync(text, golden.unconditional_greedy_from_bos.text);
    const r = spawnSync(
      process.execPath,
      [bin, 'perplexity', '--model', stories.Q8_0, '--text-file', text, '--json'],
      { encoding: 'utf8', timeout: 120_000 },
    );
    expect(r.stderr).not.toMatch(/Error/);
    expect(r.status).toBe(0);
    const row = JSON.parse(r.stdout);
    expect(row.tokens).toBeGreaterThan(200);
    expect(row.perplexity).toBeGreaterThan(1);
    expect(row.perplexity).toBeLessThan(1.5774 * 1.01);
  });
});

describe('synthetic Qwen2 (q/k/v biases) as GGUF against its safetensors twin', () => {
  const rows = [1, 9, 40, 300, 2, 77, 5, 511].map((token, position) => ({ token, position }));
  const tokens = tokenList(join(storiesDir(), 'tokenizer.json'));
  const source = randomTensors(KQUANT_QWEN2, 7);

  /** The GGUF's dequantized values written as an F32 safetensors folder. */
  async function twin(gguf: string, dir: string): Promise<string> {
    const f32 = await loadModelFiles(gguf); // every tensor dequantized to f32
    mkdirSync(dir, { recursive: true });
    const c = KQUANT_QWEN2;
    writeFileSync(
      join(dir, 'config.json'),
      JSON.stringify({
        model_type: 'qwen2',
        vocab_size: c.vocabSize,
        hidden_size: c.hiddenSize,
        intermediate_size: c.intermediateSize,
        num_hidden_layers: c.numLayers,
        num_attention_heads: c.numHeads,
        num_key_value_heads: c.numKvHeads,
        head_dim: c.headDim,
        max_position_embeddings: c.maxPositions,
        rms_norm_eps: c.rmsNormEps,
        rope_theta: c.ropeTheta,
        tie_word_embeddings: false,
        bos_token_id: 1,
        eos_token_id: 2,
      }),
    );
    const specs = [...f32.tensors.values()].map((t) => ({
      name: t.name,
      shape: t.shape,
      dtype: 'F32' as const,
      values: (s: number, n: number) => f32Values(t).subarray(s, s + n),
    }));
    await writeSafetensorsFile(join(dir, 'model.safetensors'), specs);
    return dir;
  }

  it.each([
    ['F16', 'f16', 1e-3],
    ['Q4_K', 'q4m_f32', 1e-3],
    ['Q6_K', 'q6k', 1e-3],
  ] as const)('%s: logits match the twin (GPU format %s)', async (type, format, tol) => {
    const path = join(tmp, `qwen2-${type}.gguf`);
    writeFileSync(path, ggufFromModel(KQUANT_QWEN2, source, { type, tokens }));
    const files = await loadModelFiles(path, { prep: { keep: 'gpu' } });
    expect(files.config.attentionBias).toBe(true);
    expect(files.tensors.get('model.layers.1.mlp.down_proj.weight')?.packed?.format ?? 'f32').toBe(format);
    const twinFiles = await loadModelFiles(await twin(path, join(tmp, `twin-${type}`)), {
      prep: { keep: 'gpu' },
    });
    expect(files.fingerprint).not.toBe(twinFiles.fingerprint);
    const [a, b] = [await build(files, 32), await build(twinFiles, 32)];
    const la = (await a.forward(rows, { readLogits: true, logitRows: [0, 3, 7] })).logits!;
    const lb = (await b.forward(rows, { readLogits: true, logitRows: [0, 3, 7] })).logits!;
    a.destroy();
    b.destroy();
    const diff = maxDiff(la, lb);
    console.log(`qwen2 ${type}: max |logit − twin| = ${diff.toExponential(2)}`);
    expect(diff).toBeLessThan(tol);
    expect(Math.max(...Array.from(la).map(Math.abs))).toBeGreaterThan(0.01); // not all zero
  });
});

describe('a GGUF file without tokenizer.json beside it', () => {
  it('kvshare generate builds the tokenizer from tokenizer.ggml.* and prints the golden story', async () => {
    const alone = await writeStoriesGguf(join(tmp, 'alone'), ['Q8_0'], false);
    const bin = fileURLToPath(new URL('../../bin/kvshare.js', import.meta.url));
    const r = spawnSync(
      process.execPath,
      [
        bin,
        'generate',
        '--model',
        alone.Q8_0,
        '--prompt',
        'Once upon a time',
        '--max-new-tokens',
        '32',
        '--json',
      ],
      { encoding: 'utf8', timeout: 120_000 },
    );
    expect(r.stderr).not.toMatch(/Error/);
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.promptTokens).toEqual(prompt);
    expect(out.tokenIds).toEqual(golden.greedy_64_after_prompt.ids.slice(0, 32));
    expect(golden.greedy_64_after_prompt.text.startsWith(`Once upon a time${out.text}`)).toBe(true);
  });
});
