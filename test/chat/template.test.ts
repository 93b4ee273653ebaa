// The real Qwen (ChatML) and Llama 3 chat templates, rendered by our tokenizer code from the npm
// packages' tokenizer files, against strings written from each template's documented format.
import { beforeAll, describe, expect, it } from 'vitest';
import { chatTokenizerDir } from '../../src/cli/synthetic/synthetic-tokenizers.ts';
import { type ChatMessage, loadTokenizer, type Tokenizer } from '../../src/model/tokenizer/tokenizer.ts';
import { chatModelDir } from './models.ts';

const CHAT: ChatMessage[] = [
  { role: 'system', content: 'You are a helpful assistant.' },
  { role: 'user', content: 'What is the capital of France?' },
  { role: 'assistant', content: 'Paris.' },
  { role: 'user', content: 'And of Italy?' },
];

let qwen: Tokenizer;
let llama3: Tokenizer;
beforeAll(async () => {
  [qwen, llama3] = await Promise.all([
    loadTokenizer(await chatTokenizerDir('qwen')),
    loadTokenizer(await chatTokenizerDir('llama3')),
  ]);
});

describe('Qwen ChatML template', () => {
  it('renders system + multi-turn exactly as <|im_start|>role\\ncontent<|im_end|>\\n, then the generation prompt', () => {
    expect(qwen.renderChatTemplate(CHAT, { addGenerationPrompt: true })).toBe(
      '<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n' +
        '<|im_start|>user\nWhat is the capital of France?<|im_end|>\n' +
        '<|im_start|>assistant\nParis.<|im_end|>\n' +
        '<|im_start|>user\nAnd of Italy?<|im_end|>\n' +
        '<|im_start|>assistant\n',
    );
    expect(qwen.renderChatTemplate(CHAT.slice(0, 2))).toBe(
      '<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n' +
        '<|im_start|>user\nWhat is the capital of France?<|im_end|>\n',
    );
  });

  it('encodes the markers as single special tokens and nothing before them', () => {
    const ids = qwen.applyChatTemplate(CHAT, { addGenerationPrompt: true });
    const IM_START = 151644;
    const IM_END = 151645;
    expect(ids[0]).toBe(IM_START);
    expect(ids.filter((id) => id === IM_START)).toHaveLength(5);
    expect(ids.filter((id) => id === IM_END)).toHaveLength(4);
    expect(qwen.decode(ids)).toBe(qwen.renderChatTemplate(CHAT, { addGenerationPrompt: true }));
    expect(qwen.bosTokenId).toBeNull();
    expect(qwen.encode('Hello')).toEqual(qwen.encode('Hello', { addSpecialTokens: false }));
  });

  it('a synthetic Qwen folder stops on <|im_end|> and <|endoftext|> (config + generation_config)', async () => {
    const tok = await loadTokenizer(await chatModelDir('qwen'));
    expect(tok.eosTokenIds).toEqual([151645, 151643]);
  });
});

describe('Llama 3 template', () => {
  it('renders <|begin_of_text|> once, headers, trimmed contents and <|eot_id|> per turn', () => {
    const padded = CHAT.map((m, i) => (i === 1 ? { ...m, content: `  ${m.content}\n` } : m));
    expect(llama3.renderChatTemplate(padded, { addGenerationPrompt: true })).toBe(
      '<|begin_of_text|>' +
        '<|start_header_id|>system<|end_header_id|>\n\nYou are a helpful assistant.<|eot_id|>' +
        '<|start_header_id|>user<|end_header_id|>\n\nWhat is the capital of France?<|eot_id|>' +
        '<|start_header_id|>assistant<|end_header_id|>\n\nParis.<|eot_id|>' +
        '<|start_header_id|>user<|end_header_id|>\n\nAnd of Italy?<|eot_id|>' +
        '<|start_header_id|>assistant<|end_header_id|>\n\n',
    );
  });

  it('has exactly one BOS (the template writes it; encoding the rendering adds none)', () => {
    const ids = llama3.applyChatTemplate(CHAT, { addGenerationPrompt: true });
    expect(ids[0]).toBe(128000);
    expect(ids.filter((id) => id === 128000)).toHaveLength(1);
    expect(ids.filter((id) => id === 128009)).toHaveLength(4); // <|eot_id|>
    expect(llama3.bosTokenId).toBe(128000);
  });

  it('a synthetic Llama 3 folder stops on <|eot_id|> (generation_config) as well as <|end_of_text|>', async () => {
    const tok = await loadTokenizer(await chatModelDir('llama3'));
    expect(tok.eosTokenIds).toEqual([128001, 128009]);
  });
});
