// Issue 8 regressions of the load path: findings 4 (NaN weights), 5 (unbounded layer count, tokenizer
// checked only after the weights) and 6 (load options).
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidArgumentError, ModelFileMissingError, ModelFormatError } from '../../src/errors.ts';
import { parseConfig } from '../../src/model/config.ts';
import { loadModelFiles } from '../../src/model/load.ts';
import type { LoadProgress } from '../../src/model/types.ts';
import { createNodeTokenEngine } from '../../src/node/index.ts';
import { storiesDir } from '../helpers/models.ts';

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'kvshare-hostile-load-'));
});
afterAll(() => rm(tmp, { recursive: true, force: true }));

const FILES = ['config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json'];

/** A copy of stories260K with `edit` applied to its config and `skip` files left out. */
async function copy(name: string, edit?: (c: Record<string, unknown>) => void, skip: string[] = []) {
  const dir = join(tmp, name);
  await mkdir(dir);
  for (const f of FILES.filter((f) => !skip.includes(f))) await copyFile(join(storiesDir(), f), join(dir, f));
  if (edit) {
    const cfg = JSON.parse(await readFile(join(storiesDir(), 'config.json'), 'utf8'));
    edit(cfg);
    await writeFile(join(dir, 'config.json'), JSON.stringify(cfg));
  }
  return dir;
}

describe('config.json against the checkpoint (finding 5)', () => {
  it('a million layers fail at once, before any per-layer work', async () => {
    const dir = await copy('million', (c) => {
      c.num_hidden_layers = 1_000_000;
    });
    // The bound is checked on config.json alone, so the error names it (it used to take 168 s and
    // 1.5 GB of per-layer work before failing elsewhere).
    await expect(loadModelFiles(dir)).rejects.toThrow(/num_hidden_layers is 1000000, more than the 1024/);
  });
  it('a layer count within the bound but not the checkpoint’s is caught from the header', async () => {
    const dir = await copy('six', (c) => {
      c.num_hidden_layers = 900;
    });
    await expect(loadModelFiles(dir)).rejects.toThrow(
      /num_hidden_layers is 900, but the checkpoint holds 5 layers/,
    );
  });
  it('3e6 layers are refused by the config bound alone', () => {
    const cfg = { model_type: 'llama', hidden_size: 64, num_attention_heads: 8, intermediate_size: 8 };
    expect(() =>
      parseConfig({ ...cfg, vocab_size: 1, max_position_embeddings: 8, num_hidden_layers: 3e6 }),
    ).toThrow(ModelFormatError);
  });
  it('a vocabulary that disagrees with the embedding is named', async () => {
    const dir = await copy('vocab', (c) => {
      c.vocab_size = 600;
    });
    await expect(loadModelFiles(dir)).rejects.toThrow(
      /embed_tokens\.weight has shape \[512, 64\] but config\.json implies vocab_size × hidden_size = \[600, 64\]/,
    );
  });
});

describe('tokenizer before weights (finding 5)', () => {
  it('a missing tokenizer.json fails the load before any weight byte is read', async () => {
    const dir = await copy('no-tokenizer', undefined, ['tokenizer.json']);
    const events: LoadProgress[] = [];
    const engine = createNodeTokenEngine();
    await expect(engine.load(dir, { onProgress: (p) => events.push(p) })).rejects.toBeInstanceOf(
      ModelFileMissingError,
    );
    expect(events.filter((e) => e.kind === 'fetch' && e.loadedBytes > 0)).toEqual([]);
  });
});

describe('non-finite weights (finding 4)', () => {
  it('a NaN in a weight is a ModelFormatError at load', async () => {
    const dir = await copy('nan');
    const bytes = new Uint8Array(await readFile(join(dir, 'model.safetensors')));
    const headerLen = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLen)));
    const [name, t] = Object.entries(header).find(([k]) => k.endsWith('input_layernorm.weight')) as [
      string,
      { data_offsets: [number, number] },
    ];
    new DataView(bytes.buffer).setFloat32(8 + headerLen + t.data_offsets[0] + 4, Number.NaN, true);
    await writeFile(join(dir, 'model.safetensors'), bytes);
    await expect(loadModelFiles(dir)).rejects.toThrow(
      new RegExp(`Tensor ${name.replaceAll('.', '\\.')} holds a non-finite value \\(NaN\\) at index 1`),
    );
  });
});

describe('load options (finding 6)', () => {
  const bad: [string, Record<string, unknown>][] = [
    ['contextLength -1', { contextLength: -1 }],
    ['contextLength NaN', { contextLength: Number.NaN }],
    ['contextLength 0', { contextLength: 0 }],
    ['contextLength 1', { contextLength: 1 }],
    ['contextLength 1.5', { contextLength: 1.5 }],
    ['contextLength "64"', { contextLength: '64' }],
    ['maxRows 0', { maxRows: 0 }],
    ['cacheBudgetBytes -5', { cacheBudgetBytes: -5 }],
    ['a fake signal', { signal: {} }],
    ['onProgress not a function', { onProgress: 3 }],
    ["reuse mode 'fast'", { reuse: { mode: 'fast' } }],
    ['reuse recomputeRatio 2', { reuse: { recomputeRatio: 2 } }],
  ];
  it.each(bad)('%s is an InvalidArgumentError', async (_, opts) => {
    const engine = createNodeTokenEngine();
    await expect(engine.load(storiesDir(), opts as never)).rejects.toBeInstanceOf(InvalidArgumentError);
  });
  it('a location that is not a string is an InvalidArgumentError', async () => {
    await expect(createNodeTokenEngine().load(42 as never)).rejects.toBeInstanceOf(InvalidArgumentError);
  });
});
