import { copyFile, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidArgumentError, ModelFileMissingError, ModelFormatError } from '../../src/errors.ts';
import { parseConfig } from '../../src/model/config.ts';
import { createTokenizer, loadTokenizer, type Tokenizer } from '../../src/model/tokenizer/tokenizer.ts';
import { storiesDir } from '../helpers/models.ts';
import { serveFolder } from './serve.ts';

const TEMPLATE =
  "{% for m in messages %}{{ bos_token + m['role'] + ': ' + m['content'] + '\\n' }}{% endfor %}" +
  "{% if add_generation_prompt %}{{ 'assistant:' }}{% endif %}";

describe('stories260K tokenizer', () => {
  let tok: Tokenizer;
  const tmp = `${tmpdir()}/kvshare-tok-${process.pid}`;

  beforeAll(async () => {
    const config = parseConfig(JSON.parse(await readFile(`${storiesDir()}/config.json`, 'utf8')));
    tok = await loadTokenizer(storiesDir(), config);
    await mkdir(tmp, { recursive: true });
  });
  afterAll(() => rm(tmp, { recursive: true, force: true }));

  it('encodes "Once upon a time" as llama2.c does, BOS first', () => {
    expect(tok.encode('Once upon a time')).toEqual([1, 403, 407, 261, 378]);
    expect(tok.encode('Once upon a time', { addSpecialTokens: true })).toEqual([1, 403, 407, 261, 378]);
    expect(tok.encode('Once upon a time', { addSpecialTokens: false })).toEqual([403, 407, 261, 378]);
  });

  it('decodes back to the text', () => {
    const ids = tok.encode('Once upon a time');
    expect(tok.decode(ids, { skipSpecialTokens: true })).toBe('Once upon a time');
    expect(tok.decode(ids)).toBe('<s> Once upon a time');
    expect(tok.decode([])).toBe('');
    expect(tok.encode('')).toEqual([1]);
    expect(tok.decode([403, 600])).toBe('Once<unk>'); // beyond the tokenizer's 512 ids
    for (const text of [
      'Lily saw a big, red ball.\nShe was happy!',
      'Café naïve — 42 🐶',
      'two  spaces and a trailing space ',
    ]) {
      expect(tok.decode(tok.encode(text), { skipSpecialTokens: true })).toBe(text);
    }
  });

  it('knows its special tokens and has no chat template', () => {
    expect(tok.bosTokenId).toBe(1);
    expect(tok.eosTokenIds).toEqual([2]);
    expect(tok.hasChatTemplate).toBe(false);
    expect(() => tok.applyChatTemplate([{ role: 'user', content: 'hi' }])).toThrow(InvalidArgumentError);
    expect(() => tok.applyChatTemplate([{ role: 'user', content: 'hi' }])).toThrow(/no chat template/);
  });

  it('renders a chat template from tokenizer_config.json', async () => {
    const dir = `${tmp}/inline`;
    await mkdir(dir);
    await copyFile(`${storiesDir()}/tokenizer.json`, `${dir}/tokenizer.json`);
    const cfg = JSON.parse(await readFile(`${storiesDir()}/tokenizer_config.json`, 'utf8'));
    await writeFile(`${dir}/tokenizer_config.json`, JSON.stringify({ ...cfg, chat_template: TEMPLATE }));
    const chat = await loadTokenizer(dir);
    expect(chat.hasChatTemplate).toBe(true);
    const messages = [
      { role: 'system', content: 'Be kind.' },
      { role: 'user', content: 'Tell a story.' },
    ] as const;
    const text = chat.renderChatTemplate([...messages], { addGenerationPrompt: true });
    expect(text).toBe('<s>system: Be kind.\n<s>user: Tell a story.\nassistant:');
    const ids = chat.applyChatTemplate([...messages], { addGenerationPrompt: true });
    expect(ids[0]).toBe(1);
    expect(ids).toEqual(chat.encode(text, { addSpecialTokens: false }));
    expect(ids.filter((id) => id === 1)).toHaveLength(2); // BOS only where the template writes it
  });

  it('reads chat_template.jinja and generation_config.json, also over HTTP', async () => {
    const dir = `${tmp}/jinja`;
    await mkdir(dir);
    await copyFile(`${storiesDir()}/tokenizer.json`, `${dir}/tokenizer.json`);
    await copyFile(`${storiesDir()}/tokenizer_config.json`, `${dir}/tokenizer_config.json`);
    await writeFile(`${dir}/chat_template.jinja`, TEMPLATE);
    await writeFile(`${dir}/generation_config.json`, JSON.stringify({ eos_token_id: [2, 0] }));
    const server = await serveFolder(dir);
    try {
      const remote = await loadTokenizer(server.url);
      expect(remote.hasChatTemplate).toBe(true);
      expect(remote.eosTokenIds).toEqual([2, 0]);
      expect(remote.applyChatTemplate([{ role: 'user', content: 'hi' }])).toEqual(
        remote.encode('<s>user: hi\n', { addSpecialTokens: false }),
      );
    } finally {
      await server.close();
    }
  });

  it('reports missing and malformed tokenizer files', async () => {
    await expect(loadTokenizer(`${tmp}/none`)).rejects.toThrow(ModelFileMissingError);
    await expect(createTokenizer({ tokenizerJson: [], tokenizerConfig: {} })).rejects.toThrow(
      ModelFormatError,
    );
    const bad = { model: { type: 'NoSuchModel' } };
    await expect(createTokenizer({ tokenizerJson: bad, tokenizerConfig: {} })).rejects.toThrow(
      ModelFormatError,
    );
  });
});
