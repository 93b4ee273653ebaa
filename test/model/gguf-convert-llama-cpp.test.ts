// kvshare convert's files judged by llama.cpp (node-llama-cpp's prebuilt CPU binary, offline):
// stories260K converted to f32 / f16 / q8_0 / q4_0 loads there, llama.cpp tokenizes from the file's
// tokenizer.ggml.* metadata like tokenizer.json, and its logits and greedy ids agree with this engine's
// on the same file; a converted Qwen2 chat model (byte-level BPE) tokenizes and answers alike there.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { nodeShaderLibrary } from '../../src/gpu/shaders-node.ts';
import { LlamaRunner } from '../../src/llama/runner.ts';
import { convertToGguf, type GgufOutType } from '../../src/model/gguf/gguf-convert.ts';
import { loadModelFiles } from '../../src/model/load.ts';
import { createTokenizer } from '../../src/model/tokenizer/tokenizer.ts';
import { chatModelDir, REPLY } from '../chat/models.ts';
import { testGpu } from '../helpers/gpu.ts';
import { LlamaCppJudge } from '../helpers/llama-cpp.ts';
import { goldenPath, storiesDir } from '../helpers/models.ts';
import { promptLogitsAndGreedy, relDiff } from '../helpers/prompt-run.ts';

const golden = JSON.parse(readFileSync(goldenPath(), 'utf8'));
const prompt: number[] = golden.prompt_ids_with_bos; // [5]
const VOCAB = 512;
const STEPS = 24;
const tmp = mkdtempSync(join(tmpdir(), 'kvshare-convert-llamacpp-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('kvshare convert output in llama.cpp', () => {
  // f32 and f16: the same weights in both engines, f32 arithmetic; q8_0 / q4_0: llama.cpp's CPU dot
  // products also quantize the activations to 8 bits, this engine keeps them in f32.
  const tolerance: Record<string, number> = { f32: 1e-4, f16: 1e-3, q8_0: 2e-2, q4_0: 5e-2 };
  const diffs: Record<string, number> = {};

  for (const type of ['f32', 'f16', 'q8_0', 'q4_0'] as GgufOutType[]) {
    it(`${type}: loads in llama.cpp; logits and greedy ids agree with this engine on the same file`, async () => {
      const file = join(tmp, `stories-${type}.gguf`);
      writeFileSync(file, await convertToGguf(storiesDir(), { type }));
      const judge = await LlamaCppJudge.load(file);
      try {
        const want = await judge.logits(prompt, VOCAB); // [5, V]
        const got = await promptLogitsAndGreedy(file, prompt, STEPS);
        diffs[type] = relDiff(want, got.logits);
        expect(diffs[type], type).toBeLessThan(tolerance[type]);
        const greedy = await judge.greedy(prompt, STEPS, VOCAB);
        expect(got.ids, type).toEqual(greedy.ids);
        if (type === 'f32') expect(greedy.ids).toEqual(golden.greedy_64_after_prompt.ids.slice(0, STEPS));
      } finally {
        await judge.dispose();
      }
      console.log(`llama.cpp vs this engine, relative logit difference: ${JSON.stringify(diffs)}`);
    });
  }

  it("llama.cpp tokenizes from the file's metadata as tokenizer.json does", async () => {
    const file = join(tmp, 'stories-f32.gguf');
    const judge = await LlamaCppJudge.load(file);
    const dir = storiesDir();
    const hf = await createTokenizer({
      tokenizerJson: JSON.parse(readFileSync(join(dir, 'tokenizer.json'), 'utf8')),
      tokenizerConfig: JSON.parse(readFileSync(join(dir, 'tokenizer_config.json'), 'utf8')),
    });
    try {
      for (const text of [
        golden.prompt,
        golden.greedy_64_after_prompt.text,
        'Tom saw a big dog. It was 3 years old!',
      ])
        expect(judge.tokenize(text), text).toEqual(hf.encode(text, { addSpecialTokens: false }));
      expect(judge.tokenize('Once upon a time')).toEqual([403, 407, 261, 378]);
    } finally {
      await judge.dispose();
    }
  });

  it('a Qwen2 chat model (byte-level BPE, 151k tokens): llama.cpp tokenizes and picks the tokens this engine does', async () => {
    const dir = await chatModelDir('qwen');
    const file = join(tmp, 'qwen-q8_0.gguf');
    writeFileSync(file, await convertToGguf(dir, { type: 'q8_0' }));
    const hf = await createTokenizer({
      tokenizerJson: JSON.parse(readFileSync(join(dir, 'tokenizer.json'), 'utf8')),
      tokenizerConfig: JSON.parse(readFileSync(join(dir, 'tokenizer_config.json'), 'utf8')),
    });
    const text = hf.renderChatTemplate([{ role: 'user', content: 'When do you open? Café 3333 🐶' }], {
      addGenerationPrompt: true,
    });
    const ids = hf.encode(text, { addSpecialTokens: false });
    const judge = await LlamaCppJudge.load(file);
    try {
      expect(judge.tokenize('When do you open? Café 3333 🐶')).toEqual(
        hf.encode('When do you open? Café 3333 🐶', { addSpecialTokens: false }),
      );
      const m = await loadModelFiles(file, { prep: { keep: 'gpu' } });
      const r = await LlamaRunner.build(await testGpu(), nodeShaderLibrary(), m.config, m.tensors, {
        contextLength: 128,
      });
      const greedy = await judge.greedy(ids, 4, m.config.vocabSize);
      let out = await r.forward(ids.map((token, position) => ({ token, position })));
      const got: number[] = [];
      for (let pos = ids.length; got.length < 4; pos++) {
        got.push(out.ids[0]);
        out = await r.forward([{ token: out.ids[0], position: pos }]);
      }
      r.destroy();
      expect(got).toEqual(greedy.ids);
      expect(hf.decode(got, { skipSpecialTokens: true })).toBe(REPLY); // the planted reply, then <|im_end|>
    } finally {
      await judge.dispose();
    }
  });
});
