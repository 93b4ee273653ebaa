// writeSyntheticModel's chat options refuse what they cannot do, before writing anything.
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeSyntheticModel } from '../../src/cli/synthetic/synthetic.ts';
import type { SyntheticTokenizer } from '../../src/cli/synthetic/synthetic-tokenizers.ts';
import { InvalidArgumentError } from '../../src/errors.ts';
import { chatModelDir } from './models.ts';

const dirs: string[] = [];
const scratch = async () => {
  const d = await mkdtemp(join(tmpdir(), 'kvshare-synth-chat-'));
  dirs.push(d);
  return join(d, 'model');
};
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

describe('synthetic chat models', () => {
  it('write the real tokenizer files and the instruct stop tokens into generation_config.json', async () => {
    const dir = await chatModelDir('qwen');
    const config = JSON.parse(await readFile(join(dir, 'config.json'), 'utf8'));
    expect(config).toMatchObject({ vocab_size: 151936, bos_token_id: null, eos_token_id: 151645 });
    const gen = JSON.parse(await readFile(join(dir, 'generation_config.json'), 'utf8'));
    expect(gen.eos_token_id).toEqual([151645, 151643]);
    const tok = JSON.parse(await readFile(join(dir, 'tokenizer.json'), 'utf8'));
    expect(Object.keys(tok.model.vocab)).toHaveLength(151643);
  });

  it('refuse a planted reply in a tied shape, without a chat tokenizer, or with repeated tokens', async () => {
    const out = await scratch();
    const cases = [
      { shape: 'qwen2.5-0.5b' as const, tokenizer: 'qwen' as const, reply: 'Hi' }, // tied embeddings
      { shape: 'tiny-qwen2' as const, reply: 'Hi' }, // stories tokenizer: no chat template
      { shape: 'tiny-qwen2-151k' as const, tokenizer: 'qwen' as const, reply: '\n' }, // '\n' ends the prompt too
    ];
    for (const c of cases) {
      await expect(writeSyntheticModel({ ...c, out })).rejects.toBeInstanceOf(InvalidArgumentError);
    }
    await expect(
      writeSyntheticModel({ shape: 'tiny-llama3', tokenizer: 'gpt2' as SyntheticTokenizer, out }),
    ).rejects.toThrow(/Unknown tokenizer 'gpt2'/);
    expect(existsSync(join(out, 'model.safetensors'))).toBe(false);
  });
});
