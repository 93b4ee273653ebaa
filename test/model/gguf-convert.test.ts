// kvshare convert (src/model/gguf/gguf-convert.ts, src/cli/convert.ts): stories260K's safetensors folder
// → GGUF f32 / f16 / bf16 / q8_0 / q4_0, loaded back on the GPU against the safetensors original, its
// metadata and tokenizer read back; a synthetic Qwen2 with the real Qwen tokenizer and chat template
// answers its planted reply from the GGUF alone.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  InvalidArgumentError,
  ModelFileMissingError,
  UnsupportedArchitectureError,
} from '../../src/errors.ts';
import { convertToGguf, GGUF_OUT_TYPES, type GgufOutType } from '../../src/model/gguf/gguf-convert.ts';
import { readGgufHeader } from '../../src/model/gguf/gguf-header.ts';
import { GGML_TYPE_IDS } from '../../src/model/gguf/gguf-quantize.ts';
import { tokenizerFilesFromGguf } from '../../src/model/gguf/gguf-tokenizer.ts';
import { ggufTokenizerMetadata } from '../../src/model/gguf/gguf-vocab.ts';
import { openModelSource } from '../../src/model/source/source.ts';
import { createTokenizer } from '../../src/model/tokenizer/tokenizer.ts';
import { createNodeEngine } from '../../src/node/index.ts';
import { chatModelDir, REPLY } from '../chat/models.ts';
import { goldenPath, storiesDir } from '../helpers/models.ts';
import { promptLogitsAndGreedy, relDiff } from '../helpers/prompt-run.ts';

const golden = JSON.parse(readFileSync(goldenPath(), 'utf8'));
const prompt: number[] = golden.prompt_ids_with_bos;
const tmp = mkdtempSync(join(tmpdir(), 'kvshare-convert-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const bin = fileURLToPath(new URL('../../bin/kvshare.js', import.meta.url));

const files: Partial<Record<GgufOutType, string>> = {};
beforeAll(async () => {
  for (const type of GGUF_OUT_TYPES) {
    files[type] = join(tmp, `stories-${type}.gguf`);
    writeFileSync(files[type], await convertToGguf(storiesDir(), { type }));
  }
});

describe('kvshare convert: stories260K safetensors → GGUF', () => {
  let original: { logits: Float32Array; ids: number[] };
  beforeAll(async () => {
    original = await promptLogitsAndGreedy(storiesDir(), prompt, 32);
    expect(original.ids).toEqual(golden.greedy_64_after_prompt.ids.slice(0, 32));
  });

  it('f32: logits identical to the safetensors model, and the same greedy ids', async () => {
    const got = await promptLogitsAndGreedy(files.f32 as string, prompt, 32);
    expect(got.logits).toEqual(original.logits);
    expect(got.ids).toEqual(original.ids);
  });

  it('f16, bf16, q8_0, q4_0: logits within the format tolerance; greedy equal where it is tight', async () => {
    // Relative tolerance: f16 keeps 11 bits of mantissa, bf16 8, q8_0 ~8 bits a block, q4_0 4 (on a
    // model this small, 64-wide rows of two blocks, q4_0 moves logits by up to ~1/4 of their range).
    const tolerance: Record<string, number> = { f16: 2e-3, bf16: 2e-2, q8_0: 2e-2, q4_0: 0.35 };
    const diffs: Record<string, number> = {};
    for (const type of ['f16', 'bf16', 'q8_0', 'q4_0'] as const) {
      const got = await promptLogitsAndGreedy(files[type] as string, prompt, 32);
      diffs[type] = relDiff(original.logits, got.logits);
      expect(diffs[type], type).toBeLessThan(tolerance[type]);
      expect(diffs[type], type).toBeGreaterThan(0); // really quantized
      if (type !== 'q4_0') expect(got.ids, type).toEqual(original.ids);
    }
    console.log(`convert: relative logit difference to safetensors f32: ${JSON.stringify(diffs)}`);
    expect(diffs.f16).toBeLessThan(diffs.q8_0);
    expect(diffs.q8_0).toBeLessThan(diffs.q4_0);
  });

  it('writes llama.cpp metadata: file type, tensor types, architecture, tokenizer keys', async () => {
    const want = {
      f32: [0, 'F32'],
      f16: [1, 'F16'],
      bf16: [32, 'BF16'],
      q8_0: [7, 'Q8_0'],
      q4_0: [2, 'Q4_0'],
    };
    for (const type of GGUF_OUT_TYPES) {
      const h = await readGgufHeader(openModelSource(tmp), `stories-${type}.gguf`);
      const [fileType, ggml] = want[type] as [number, keyof typeof GGML_TYPE_IDS];
      expect(h.metadata['general.file_type'], type).toBe(fileType);
      expect(h.metadata['general.architecture']).toBe('llama');
      expect(h.metadata['general.name']).toBe('stories260K-hf');
      expect(h.metadata['llama.vocab_size']).toBe(512);
      expect(h.metadata['tokenizer.ggml.model']).toBe('llama');
      expect(h.metadata['tokenizer.ggml.bos_token_id']).toBe(1);
      expect(h.metadata['tokenizer.ggml.eos_token_id']).toBe(2);
      const typeOf = (n: string) => h.tensors.find((t) => t.name === n)?.type;
      expect(typeOf('blk.0.attn_q.weight'), type).toBe(GGML_TYPE_IDS[ggml]);
      expect(typeOf('token_embd.weight'), type).toBe(GGML_TYPE_IDS[ggml]);
      expect(typeOf('blk.0.attn_norm.weight'), type).toBe(GGML_TYPE_IDS.F32);
      expect(typeOf('output.weight')).toBeUndefined(); // tied embeddings
      // ffn_down rows are 172 wide: not whole 32-blocks, so F16 as llama.cpp falls back.
      if (type.startsWith('q')) expect(typeOf('blk.0.ffn_down.weight')).toBe(GGML_TYPE_IDS.F16);
    }
  });

  it('the tokenizer read back from the GGUF equals tokenizer.json', async () => {
    const dir = storiesDir();
    const hf = await createTokenizer({
      tokenizerJson: JSON.parse(readFileSync(join(dir, 'tokenizer.json'), 'utf8')),
      tokenizerConfig: JSON.parse(readFileSync(join(dir, 'tokenizer_config.json'), 'utf8')),
    });
    const h = await readGgufHeader(openModelSource(tmp), 'stories-q8_0.gguf');
    const gguf = await createTokenizer(tokenizerFilesFromGguf(h.metadata));
    const texts = [
      golden.prompt,
      golden.greedy_64_after_prompt.text,
      golden.unconditional_greedy_from_bos.text,
      'Tom and  Sue ran.\nThey saw a dog! 123 ü 🐶',
    ];
    for (const text of texts) {
      expect(gguf.encode(text), text).toEqual(hf.encode(text));
      expect(gguf.decode(hf.encode(text))).toBe(hf.decode(hf.encode(text)));
    }
    expect(gguf.encode('Once upon a time')).toEqual([1, 403, 407, 261, 378]);
    expect(gguf.bosTokenId).toBe(hf.bosTokenId);
    expect(gguf.eosTokenIds).toEqual(hf.eosTokenIds);
  });

  it('the CLI writes the same bytes as the library; bad input is a typed error and writes nothing', () => {
    const out = join(tmp, 'cli-q4_0.gguf');
    const r = spawnSync(
      process.execPath,
      [bin, 'convert', '--model', storiesDir(), '--out', out, '--type', 'q4_0', '--json'],
      { encoding: 'utf8', timeout: 120_000 },
    );
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ out, type: 'q4_0' });
    expect(readFileSync(out)).toEqual(readFileSync(files.q4_0 as string));

    const bad = spawnSync(
      process.execPath,
      [bin, 'convert', '--model', storiesDir(), '--out', join(tmp, 'bad.gguf'), '--type', 'q5_1'],
      { encoding: 'utf8', timeout: 60_000 },
    );
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain('error [INVALID_ARGUMENT] InvalidArgumentError: --type must be one of');
    expect(spawnSync('ls', [join(tmp, 'bad.gguf')]).status).not.toBe(0);
  });

  it('library errors: unknown type, a .gguf input, a folder without tokenizer.json', async () => {
    await expect(convertToGguf(storiesDir(), { type: 'q5' as GgufOutType })).rejects.toBeInstanceOf(
      InvalidArgumentError,
    );
    await expect(convertToGguf(files.f32 as string, { type: 'f16' })).rejects.toBeInstanceOf(
      InvalidArgumentError,
    );
    const noTok = join(tmp, 'no-tokenizer');
    mkdirSync(noTok);
    for (const f of ['config.json', 'model.safetensors']) copyFileSync(join(storiesDir(), f), join(noTok, f));
    await expect(convertToGguf(noTok, { type: 'f16' })).rejects.toBeInstanceOf(ModelFileMissingError);
  });

  it('library errors: tokenizers the converter does not handle are UnsupportedArchitectureError', () => {
    const wordPiece = { model: { type: 'WordPiece', vocab: { '[UNK]': 0, hello: 1 } } };
    expect(() => ggufTokenizerMetadata(wordPiece, {})).toThrow(UnsupportedArchitectureError);
    expect(() => ggufTokenizerMetadata({}, {})).toThrow(/missing model/);
    const otherSplit = {
      model: { type: 'BPE', vocab: { a: 0, b: 1, ab: 2 }, merges: ['a b'] },
      pre_tokenizer: { type: 'Split', pattern: { Regex: '\\s+' } },
    };
    expect(() => ggufTokenizerMetadata(otherSplit, {})).toThrow(UnsupportedArchitectureError);
  });

  it('pads the vocabulary to config vocab_size with unused [PADn] tokens, as llama.cpp does', () => {
    const tok = JSON.parse(readFileSync(join(storiesDir(), 'tokenizer.json'), 'utf8'));
    const meta = ggufTokenizerMetadata(tok, {}, { vocabSize: 515 });
    const last = Object.keys(tok.model.vocab).find((k) => tok.model.vocab[k] === 511);
    expect((meta['tokenizer.ggml.tokens'] as string[]).slice(511)).toEqual([
      last,
      '[PAD512]',
      '[PAD513]',
      '[PAD514]',
    ]);
    expect((meta['tokenizer.ggml.token_type'] as number[]).slice(512)).toEqual([5, 5, 5]);
    expect((meta['tokenizer.ggml.scores'] as number[]).slice(512)).toEqual([-1000, -1000, -1000]);
  });
});

describe('kvshare convert: a Qwen2 chat model', () => {
  it('answers its planted reply from the GGUF alone (tokenizer and chat template from the metadata)', async () => {
    const dir = await chatModelDir('qwen');
    const gguf = join(tmp, 'qwen-q8_0.gguf');
    writeFileSync(gguf, await convertToGguf(dir, { type: 'q8_0' }));
    const h = await readGgufHeader(openModelSource(tmp), 'qwen-q8_0.gguf');
    expect(h.metadata['tokenizer.ggml.model']).toBe('gpt2');
    expect(h.metadata['tokenizer.ggml.pre']).toBe('qwen2');
    const config = JSON.parse(readFileSync(join(dir, 'tokenizer_config.json'), 'utf8'));
    expect(h.metadata['tokenizer.chat_template']).toBe(config.chat_template);

    const api = createNodeEngine();
    try {
      await api.load(gguf, { contextLength: 256 });
      const r = await api.chat.completions.create({
        messages: [{ role: 'user', content: 'When do you open?' }],
        max_tokens: 12,
        reuse: { mode: 'none' },
      });
      expect(r.choices[0].message.content).toBe(REPLY);
      expect(r.choices[0].finish_reason).toBe('stop');
    } finally {
      await api.unload();
    }
  });
});
