// The demo's model choice (demo/models.ts) and the dev server's model index (scripts/vite-models.ts).
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_HF_MODEL, initialSelection, localChoice, resolveModelUrl } from '../../demo/models.ts';
import { modelIndex } from '../../scripts/vite-models.ts';

const BASE = 'http://localhost:5173/?model=x';

describe('resolveModelUrl', () => {
  it('turns a Hugging Face id into its resolve/main URL', () => {
    expect(resolveModelUrl(' HuggingFaceTB/SmolLM2-135M-Instruct ', BASE)).toBe(
      'https://huggingface.co/HuggingFaceTB/SmolLM2-135M-Instruct/resolve/main',
    );
  });
  it('turns owner/name/file.gguf into the URL of that file', () => {
    expect(resolveModelUrl('Qwen/Qwen2.5-0.5B-Instruct-GGUF/qwen2.5-0.5b-instruct-q8_0.gguf', BASE)).toBe(
      'https://huggingface.co/Qwen/Qwen2.5-0.5B-Instruct-GGUF/resolve/main/qwen2.5-0.5b-instruct-q8_0.gguf',
    );
    expect(resolveModelUrl('/models/g/stories-Q8_0.gguf', BASE)).toBe(
      'http://localhost:5173/models/g/stories-Q8_0.gguf',
    );
  });
  it('keeps URLs, makes server paths absolute, drops trailing slashes', () => {
    expect(resolveModelUrl('https://cdn.example/m/', BASE)).toBe('https://cdn.example/m');
    expect(resolveModelUrl('/models/stories260K-hf/', BASE)).toBe(
      'http://localhost:5173/models/stories260K-hf',
    );
  });
  it('refuses what is neither', () => {
    expect(resolveModelUrl('', BASE)).toBeNull();
    expect(resolveModelUrl('just-a-name', BASE)).toBeNull();
    expect(resolveModelUrl('a/b/c', BASE)).toBeNull();
  });
  it('local models load by absolute URL', () => {
    expect(localChoice('stories260K-hf', BASE).url).toBe('http://localhost:5173/models/stories260K-hf');
  });
});

describe('initialSelection', () => {
  const index = { models: ['other-model', 'stories260K-hf'], network: false };
  it('offline: the local stories model', () => {
    expect(initialSelection(index, null).local).toBe('stories260K-hf');
    expect(initialSelection({ models: ['other-model'], network: false }, null).local).toBe('other-model');
  });
  it('with network: the Hugging Face default', () => {
    expect(initialSelection({ ...index, network: true }, null)).toEqual({
      local: null,
      hfInput: DEFAULT_HF_MODEL,
    });
  });
  it('?model= picks a local model by name, else fills the Hugging Face field', () => {
    expect(initialSelection({ ...index, network: true }, 'other-model').local).toBe('other-model');
    expect(initialSelection(index, 'Qwen/Qwen2.5-0.5B-Instruct')).toEqual({
      local: null,
      hfInput: 'Qwen/Qwen2.5-0.5B-Instruct',
    });
    expect(initialSelection(index, '/models/elsewhere').note).toBeUndefined();
  });
  it('an unknown ?model= that is no id or URL lists the local models', () => {
    expect(initialSelection(index, 'storis260K')).toEqual({
      local: null,
      hfInput: 'storis260K',
      note: 'No model “storis260K” on this server (local models: other-model, stories260K-hf); or give a Hugging Face id (owner/name, or owner/name/file.gguf) or a URL.',
    });
  });
});

describe('GET /models/index.json (modelIndex)', () => {
  let root: string | null = null;
  const offline = process.env.KVSHARE_OFFLINE;
  afterEach(async () => {
    if (root) await rm(root, { recursive: true, force: true });
    root = null;
    if (offline === undefined) delete process.env.KVSHARE_OFFLINE;
    else process.env.KVSHARE_OFFLINE = offline;
  });

  it('lists folders with config.json and weights, sorted; KVSHARE_OFFLINE=1 means no network', async () => {
    root = await mkdtemp(join(tmpdir(), 'kvshare-models-'));
    const folder = async (name: string, files: string[]) => {
      await mkdir(join(root!, name));
      for (const f of files) await writeFile(join(root!, name, f), '{}');
    };
    await folder('b-model', ['config.json', 'model.safetensors']);
    await folder('a-sharded', ['config.json', 'model.safetensors.index.json']);
    await folder('tokenizer-only', ['config.json', 'tokenizer.json']);
    await folder('empty', []);
    await writeFile(join(root, 'loose.json'), '{}');
    process.env.KVSHARE_OFFLINE = '1';
    expect(await modelIndex(root)).toEqual({ models: ['a-sharded', 'b-model'], network: false });
  });

  it('a missing folder lists nothing', async () => {
    process.env.KVSHARE_OFFLINE = '1';
    expect(await modelIndex(join(tmpdir(), 'kvshare-no-such-folder'))).toEqual({
      models: [],
      network: false,
    });
  });
});
