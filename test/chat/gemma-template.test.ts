// Gemma 2 and Gemma 3 chat templates, rendered by our tokenizer code (stories260K's vocabulary, the
// Gemma templates in tokenizer_config.json) against strings written from each template's format:
// `<start_of_turn>user|model\n…<end_of_turn>\n`. Gemma 2 has no system role: its template refuses
// one, and that comes back as a typed error; Gemma 3 prefixes the first user turn with it.
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../src/errors.ts';
import { type ChatMessage, loadTokenizer, type Tokenizer } from '../../src/model/tokenizer/tokenizer.ts';
import { storiesDir } from '../helpers/models.ts';
import { GEMMA2_TEMPLATE, GEMMA3_TEMPLATE } from './gemma-templates.ts';

const SYSTEM: ChatMessage = { role: 'system', content: 'You are a helpful assistant.' };
const TURNS: ChatMessage[] = [
  { role: 'user', content: 'What is the capital of France? ' },
  { role: 'assistant', content: 'Paris.' },
  { role: 'user', content: 'And of Italy?' },
];
const tmp = mkdtempSync(join(tmpdir(), 'kvshare-gemma-chat-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

async function withTemplate(name: string, template: string): Promise<Tokenizer> {
  const dir = join(tmp, name);
  mkdirSync(dir);
  copyFileSync(join(storiesDir(), 'tokenizer.json'), join(dir, 'tokenizer.json'));
  writeFileSync(
    join(dir, 'tokenizer_config.json'),
    JSON.stringify({ bos_token: '<s>', eos_token: '</s>', chat_template: template }),
  );
  return loadTokenizer(dir);
}

let gemma2: Tokenizer;
let gemma3: Tokenizer;
beforeAll(async () => {
  gemma2 = await withTemplate('gemma2', GEMMA2_TEMPLATE);
  gemma3 = await withTemplate('gemma3', GEMMA3_TEMPLATE);
});

const TURNS_RENDERED =
  '<start_of_turn>user\nWhat is the capital of France?<end_of_turn>\n' +
  '<start_of_turn>model\nParis.<end_of_turn>\n' +
  '<start_of_turn>user\nAnd of Italy?<end_of_turn>\n';

describe('Gemma 2 template', () => {
  it('renders BOS, user / model turns with trimmed contents, then the generation prompt', () => {
    expect(gemma2.renderChatTemplate(TURNS, { addGenerationPrompt: true })).toBe(
      `<s>${TURNS_RENDERED}<start_of_turn>model\n`,
    );
    expect(gemma2.renderChatTemplate(TURNS)).toBe(`<s>${TURNS_RENDERED}`);
  });

  it('refuses a system message with a typed error that says so, as the template does', () => {
    const render = () => gemma2.renderChatTemplate([SYSTEM, ...TURNS], { addGenerationPrompt: true });
    expect(render).toThrow(InvalidArgumentError);
    expect(render).toThrow(/System role not supported/);
    expect(() => gemma2.applyChatTemplate([SYSTEM, ...TURNS])).toThrow(InvalidArgumentError);
  });
});

describe('Gemma 3 template', () => {
  it('puts the system text before the first user turn; the rest as Gemma 2', () => {
    expect(gemma3.renderChatTemplate([SYSTEM, ...TURNS], { addGenerationPrompt: true })).toBe(
      '<s><start_of_turn>user\nYou are a helpful assistant.\n\nWhat is the capital of France?<end_of_turn>\n' +
        '<start_of_turn>model\nParis.<end_of_turn>\n' +
        '<start_of_turn>user\nAnd of Italy?<end_of_turn>\n' +
        '<start_of_turn>model\n',
    );
    expect(gemma3.renderChatTemplate(TURNS, { addGenerationPrompt: true })).toBe(
      `<s>${TURNS_RENDERED}<start_of_turn>model\n`,
    );
  });

  it('refuses turns that do not alternate (typed error)', () => {
    expect(() => gemma3.renderChatTemplate([TURNS[0], TURNS[0]])).toThrow(/roles must alternate/);
  });
});
