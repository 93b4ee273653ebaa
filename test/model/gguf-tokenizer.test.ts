import { readFile } from 'node:fs/promises';
import { beforeAll, describe, expect, it } from 'vitest';
import { CHAT_TOKENIZERS, chatTokenizerDir } from '../../src/cli/synthetic/synthetic-tokenizers.ts';
import { ModelFormatError, UnsupportedArchitectureError } from '../../src/errors.ts';
import { tokenizerFilesFromGguf } from '../../src/model/gguf/gguf-tokenizer.ts';
import { ggufTokenizerMetadata } from '../../src/model/gguf/gguf-vocab.ts';
import { createTokenizer, type Tokenizer } from '../../src/model/tokenizer/tokenizer.ts';
import { assetsDir, goldenPath, storiesDir } from '../helpers/models.ts';

type Json = Record<string, unknown>;

const CORPUS = [
  'Once upon a time',
  'Hello, world! How are you doing today?',
  "It's 2024-05-17; the price was $1,234.56 (or 1234567890 cents). I'll say: you're right, we'd've won.",
  'two  spaces, three   spaces,\ttab,\t\ttabs and a trailing space ',
  'line one\nline two\n\nafter a blank line\r\nwindows line\n',
  '   leading spaces and trailing newlines\n\n\n',
  'punctuation!!! ??? ... --- ;;; "quoted" \'single\' (paren) [bracket] {brace} <angle> @#%^&*_+=|\\/~`',
  'Café naïve résumé — “smart quotes” … über Straße',
  'e\u0301 composed vs é precomposed, Ω Ω, ﬁ ligature',
  '中文测试：你好，世界。日本語のテキスト、カタカナ。한국어 문장입니다.',
  'Emoji: 🐶🐱 👩‍👩‍👧 🇫🇷 ✨ and a lone 🦄!',
  'Math: ∑ x_i² ≤ ∞, π ≈ 3.14159, ½ + ¼',
  'Code: function f(x) { return x * 2; } // done\n    indented();',
  "UPPER CASE AND MiXeD cAsE, DON'T SHOUT",
  "'RE you sure? 'M not, I'll see. 'D you? We'Ve a'lL ' era",
  '3 33 333 3333 33333 333333333 3.3 3..3 3...3 ½ ¾',
  `------======= ''''''\`\`\`\`\`\`\` """" ...... !!!!!! ??????`,
  'нещо на Български, Việt, Ελληνικά, עברית, العربية, हिन्दी, កាន់តែពិសេស',
  '    Hello\n    Hello\n (\n =',
  ' ',
  '\t',
  '\n\n\n',
  '\t\n \n\n \t \t\t \t\n  \n   \n',
  '',
];

/** Ids from llama.cpp's own tokenizer tests (models/ggml-vocab-{llama-bpe,qwen2}.gguf.out). */
const LLAMA_CPP_IDS: Record<'qwen' | 'llama3', [string, number[]][]> = {
  llama3: [
    ['Hello world', [9906, 1917]],
    [' Hello world', [22691, 1917]],
    ['3333', [8765, 18]],
    ['\n =', [198, 284]],
  ],
  qwen: [
    ['Hello world', [9707, 1879]],
    [' Hello world', [21927, 1879]],
    ['3333', [18, 18, 18, 18]],
    ['\n =', [198, 284]],
  ],
};

function goldenTexts(golden: Json): string[] {
  const texts: string[] = [];
  for (const v of Object.values(golden)) {
    if (typeof v === 'string' && v.length < 300) texts.push(v);
    if (v && typeof v === 'object' && typeof (v as Json).text === 'string')
      texts.push((v as Json).text as string);
  }
  return texts;
}

async function readJson(path: string): Promise<Json> {
  return JSON.parse(await readFile(path, 'utf8')) as Json;
}

/** The tokenizer.json tokenizer and the one built from the GGUF metadata converted from it. */
async function pairFrom(dir: string, spModel?: Uint8Array, edit?: (m: Json) => void) {
  const tokenizerJson = await readJson(`${dir}/tokenizer.json`);
  const tokenizerConfig = await readJson(`${dir}/tokenizer_config.json`);
  const hf = await createTokenizer({ tokenizerJson, tokenizerConfig });
  const meta = ggufTokenizerMetadata(tokenizerJson, tokenizerConfig, { sentencepieceModel: spModel });
  edit?.(meta);
  const gguf = await createTokenizer(tokenizerFilesFromGguf(meta));
  return { hf, gguf, meta };
}

function expectSameIds(hf: Tokenizer, gguf: Tokenizer, texts: string[], addSpecialTokens: boolean) {
  let compared = 0;
  for (const text of texts) {
    const want = hf.encode(text, { addSpecialTokens });
    expect(gguf.encode(text, { addSpecialTokens }), JSON.stringify(text)).toEqual(want);
    compared += want.length;
  }
  expect(compared).toBeGreaterThan(texts.length); // the texts are not trivially empty
}

function expectSameDecode(hf: Tokenizer, gguf: Tokenizer, texts: string[]) {
  for (const text of texts) {
    const ids = hf.encode(text);
    for (const skipSpecialTokens of [false, true]) {
      expect(gguf.decode(ids, { skipSpecialTokens }), JSON.stringify(text)).toBe(
        hf.decode(ids, { skipSpecialTokens }),
      );
    }
  }
}

const CONVERSATION = [
  { role: 'user' as const, content: 'What is 2+2? Answer briefly.' },
  { role: 'assistant' as const, content: 'It is 4.' },
  { role: 'user' as const, content: 'And 3×3, in 日本語?' },
];

function expectSameChat(hf: Tokenizer, gguf: Tokenizer) {
  expect(gguf.hasChatTemplate).toBe(true);
  for (const addGenerationPrompt of [false, true]) {
    const text = hf.renderChatTemplate(CONVERSATION, { addGenerationPrompt });
    expect(gguf.renderChatTemplate(CONVERSATION, { addGenerationPrompt })).toBe(text);
    expect(gguf.applyChatTemplate(CONVERSATION, { addGenerationPrompt })).toEqual(
      hf.applyChatTemplate(CONVERSATION, { addGenerationPrompt }),
    );
  }
}

describe('GGUF tokenizer: stories260K (llama / SentencePiece BPE)', () => {
  let texts: string[];
  let spModel: Uint8Array;
  beforeAll(async () => {
    texts = [...CORPUS, '<s>Once</s> upon <unk> a time', ...goldenTexts(await readJson(goldenPath()))];
    spModel = new Uint8Array(await readFile(`${assetsDir()}/stories260K-llama2c/tok512.model`));
  });

  it('from tokenizer.model scores: same ids, decode, BOS/EOS as tokenizer.json', async () => {
    const { hf, gguf, meta } = await pairFrom(storiesDir(), spModel);
    expect(meta['tokenizer.ggml.model']).toBe('llama');
    expect((meta['tokenizer.ggml.scores'] as number[])[300]).toBe(-41); // real scores, not a constant
    expectSameIds(hf, gguf, texts, true);
    expectSameIds(hf, gguf, texts, false);
    expectSameDecode(hf, gguf, texts);
    expect(gguf.encode('Once upon a time')).toEqual([1, 403, 407, 261, 378]);
    expect(gguf.bosTokenId).toBe(1);
    expect(gguf.eosTokenIds).toEqual(hf.eosTokenIds);
    expect(gguf.eosTokenIds).toEqual([2]);
    expect(gguf.hasChatTemplate).toBe(false);
  });

  it('from tokenizer.json alone (every score -1000): ids still equal, ranked by token id', async () => {
    const { hf, gguf, meta } = await pairFrom(storiesDir());
    expect(new Set(meta['tokenizer.ggml.scores'] as number[])).toEqual(new Set([-1000]));
    expectSameIds(hf, gguf, texts, true);
    expectSameDecode(hf, gguf, texts);
  });

  it('ranks merges by score, not by id', async () => {
    // "▁ab": "▁a" (id 6) and "ab" (id 7) compete; the higher score merges first.
    const tiny = (scoreA: number, scoreAb: number) =>
      createTokenizer(
        tokenizerFilesFromGguf({
          'tokenizer.ggml.model': 'llama',
          'tokenizer.ggml.tokens': ['<unk>', '<s>', '</s>', '▁', 'a', 'b', '▁a', 'ab'],
          'tokenizer.ggml.scores': [0, 0, 0, -1, -2, -3, scoreA, scoreAb],
          'tokenizer.ggml.token_type': [2, 3, 3, 1, 1, 1, 1, 1],
        }),
      );
    expect((await tiny(-4, -5)).encode('ab')).toEqual([1, 6, 5]);
    expect((await tiny(-5, -4)).encode('ab')).toEqual([1, 3, 7]);
  });

  it('honours add_bos/add_eos and add_space_prefix', async () => {
    const { gguf } = await pairFrom(storiesDir(), spModel, (m) => {
      m['tokenizer.ggml.add_bos_token'] = false;
      m['tokenizer.ggml.add_eos_token'] = true;
      m['tokenizer.ggml.add_space_prefix'] = false;
    });
    const ids = gguf.encode('Once upon a time');
    expect(ids[0]).not.toBe(1);
    expect(ids.at(-1)).toBe(2);
    expect(ids.slice(0, -1)).not.toEqual([403, 407, 261, 378]); // "Once" without "▁" is another piece
    expect(gguf.decode(ids.slice(0, -1))).toBe('Once upon a time');
  });
});

interface Pair {
  hf: Tokenizer;
  gguf: Tokenizer;
  meta: Json;
}

/**
 * Registers the tokenizer.json comparison for a chat tokenizer preset; returns the pair, filled in
 * beforeAll. `withSpecials`: also compare encode() with BOS/EOS added.
 */
function comparesWithTokenizerJson(
  name: 'qwen' | 'llama3',
  expected: { pre: string; bos: number | null; texts: string[]; withSpecials: boolean },
): Pair {
  const pair = {} as Pair;
  beforeAll(async () => {
    Object.assign(pair, await pairFrom(await chatTokenizerDir(name)));
  }, 120_000);
  it('same ids, decode, BOS/EOS and chat template as tokenizer.json', () => {
    const { hf, gguf, meta } = pair;
    expect(meta['tokenizer.ggml.pre']).toBe(expected.pre);
    if (expected.withSpecials) expectSameIds(hf, gguf, expected.texts, true);
    expectSameIds(hf, gguf, expected.texts, false);
    expectSameDecode(hf, gguf, expected.texts);
    expect(gguf.bosTokenId).toBe(expected.bos);
    expect(gguf.bosTokenId).toBe(hf.bosTokenId);
    // Stop tokens: the tokenizer's eos plus, found by text as llama.cpp does, what the instruct
    // models' generation_config.json lists.
    const stops = CHAT_TOKENIZERS[name].stopTokens.map((t) => hf.encode(t, { addSpecialTokens: false })[0]);
    expect(stops.length).toBe(2);
    expect(new Set(gguf.eosTokenIds)).toEqual(new Set([...hf.eosTokenIds, ...stops]));
    expectSameChat(hf, gguf);
    for (const [text, ids] of LLAMA_CPP_IDS[name]) {
      expect(gguf.encode(text, { addSpecialTokens: false }), JSON.stringify(text)).toEqual(ids);
    }
  });
  return pair;
}

describe('GGUF tokenizer: Qwen (gpt2 / qwen2 pre-tokenizer)', () => {
  const texts = [
    ...CORPUS,
    '<|im_start|>user\nhi<|im_end|>\n<|endoftext|>',
    '<tool_call>{"a": 1}</tool_call>',
  ];
  const pair = comparesWithTokenizerJson('qwen', { pre: 'qwen2', bos: null, texts, withSpecials: true });

  it('accepts 64-bit ids as bigints; eot/eom ids are stop tokens', async () => {
    const { hf, gguf, meta } = pair;
    const files = tokenizerFilesFromGguf({
      ...meta,
      'tokenizer.ggml.eos_token_id': BigInt(meta['tokenizer.ggml.eos_token_id'] as number),
      'tokenizer.ggml.eot_token_id': 151650n,
      'tokenizer.ggml.token_type': (meta['tokenizer.ggml.token_type'] as number[]).map(BigInt),
    });
    const tok = await createTokenizer(files);
    expect(tok.eosTokenIds).toEqual([151650, ...gguf.eosTokenIds]);
    expect(tok.encode(texts[2])).toEqual(hf.encode(texts[2]));
  });
});

describe('GGUF tokenizer: Llama 3 (gpt2 / llama-bpe pre-tokenizer)', () => {
  const texts = [
    ...CORPUS,
    '<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nhi<|eot_id|>',
    // Whole-word tokens that merges alone would split (" jeho" → " j"+"eh"+"o"): Llama 3's ignore_merges.
    've jeho dikkat merkez nhanh zdrav',
  ];
  // This tokenizer.json adds no BOS, llama.cpp does for llama-bpe: compared without specials here.
  const pair = comparesWithTokenizerJson('llama3', {
    pre: 'llama-bpe',
    bos: 128000,
    texts,
    withSpecials: false,
  });

  it('adds BOS as llama.cpp does for llama-bpe files without add_bos_token (this tokenizer.json does not)', async () => {
    const { hf, gguf, meta } = pair;
    expect(meta['tokenizer.ggml.add_bos_token']).toBeUndefined();
    expect(gguf.encode('Hello world')).toEqual([128000, ...hf.encode('Hello world')]);
    const noBos = await createTokenizer(
      tokenizerFilesFromGguf({ ...meta, 'tokenizer.ggml.add_bos_token': false }),
    );
    expect(noBos.encode('Hello world')).toEqual(hf.encode('Hello world'));
  });

  it('tokenizer.ggml.pre picks the word split', async () => {
    const { meta } = pair;
    const pieces = async (pre: string) => {
      const tok = await createTokenizer(tokenizerFilesFromGguf({ ...meta, 'tokenizer.ggml.pre': pre }));
      return tok.encode("DON'T 12345\n\nb", { addSpecialTokens: false }).map((id) => tok.decode([id]));
    };
    expect(await pieces('llama-bpe')).toEqual(['DON', "'T", ' ', '123', '45', '\n\n', 'b']);
    expect(await pieces('gpt-2')).toEqual(['DON', "'", 'T', ' ', '123', '45', '\n', '\n', 'b']);
    expect(await pieces('smollm')).toEqual(['DON', "'", 'T', ' ', '1', '2', '3', '4', '5', '\n', '\n', 'b']);
    expect(await pieces('default')).toEqual(['DON', "'", 'T', ' ', '123', '45', '\n', '\n', 'b']);
  }, 120_000);
});

describe('GGUF tokenizer: errors', () => {
  const base: Json = {
    'tokenizer.ggml.model': 'gpt2',
    'tokenizer.ggml.pre': 'qwen2',
    'tokenizer.ggml.tokens': ['a', 'b', 'ab', '__proto__'],
    'tokenizer.ggml.merges': ['a b'],
  };

  it('builds a tiny valid vocabulary', async () => {
    const tok = await createTokenizer(tokenizerFilesFromGguf(base));
    expect(tok.encode('abab')).toEqual([2, 2]);
    expect(tok.decode([3, 0])).toBe('__proto__a');
    expect(tok.bosTokenId).toBeNull();
  });

  it('names unsupported tokenizer models and pre-tokenizers', () => {
    for (const model of ['bert', 't5', 'rwkv']) {
      const f = () => tokenizerFilesFromGguf({ ...base, 'tokenizer.ggml.model': model });
      expect(f).toThrow(UnsupportedArchitectureError);
      expect(f).toThrow(new RegExp(`'${model}'`));
    }
    const f = () => tokenizerFilesFromGguf({ ...base, 'tokenizer.ggml.pre': 'mystery-pre' });
    expect(f).toThrow(UnsupportedArchitectureError);
    expect(f).toThrow(/'mystery-pre'.*qwen2/);
  });

  it('rejects missing or malformed vocabularies with ModelFormatError', () => {
    const cases: [Json, RegExp][] = [
      [{ ...base, 'tokenizer.ggml.tokens': undefined }, /tokenizer\.ggml\.tokens/],
      [{ ...base, 'tokenizer.ggml.tokens': [] }, /tokenizer\.ggml\.tokens/],
      [{ ...base, 'tokenizer.ggml.tokens': [1, 2] }, /strings/],
      [{ ...base, 'tokenizer.ggml.model': undefined }, /tokenizer\.ggml\.model/],
      [{ ...base, 'tokenizer.ggml.merges': undefined }, /merges/],
      [{ ...base, 'tokenizer.ggml.merges': ['ab'] }, /merges\[0\]/],
      [{ ...base, 'tokenizer.ggml.token_type': [1, 1] }, /2 entries for 4 tokens/],
      [{ ...base, 'tokenizer.ggml.bos_token_id': 7 }, /outside the 4 tokens/],
      [{ ...base, 'tokenizer.ggml.bos_token_id': 1.5 }, /integer/],
      [{ ...base, 'tokenizer.ggml.add_bos_token': true }, /bos_token_id is not/],
    ];
    for (const [meta, message] of cases) {
      const f = () => tokenizerFilesFromGguf(meta);
      expect(f).toThrow(ModelFormatError);
      expect(f).toThrow(message);
    }
  });
});
