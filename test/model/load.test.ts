import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AbortError,
  ModelFileMissingError,
  ModelFormatError,
  TensorTooLargeError,
} from '../../src/errors.ts';
import { loadModelFiles } from '../../src/model/load.ts';
import { parseSafetensors } from '../../src/model/safetensors/safetensors.ts';
import { type ModelSource, openModelSource } from '../../src/model/source/source.ts';
import { f32Values, type LoadProgress } from '../../src/model/types.ts';
import { storiesDir } from '../helpers/models.ts';

/** Wraps a source, recording which data reads happen and re-chunking streams into `chunk`-byte pieces. */
function spySource(inner: ModelSource, chunk?: number): ModelSource & { dataReads: string[] } {
  const dataReads: string[] = [];
  return {
    location: inner.location,
    kind: inner.kind,
    dataReads,
    readJson: (n, s) => inner.readJson(n, s),
    readText: (n, s) => inner.readText(n, s),
    readRange: (n, a, b, s) => inner.readRange(n, a, b, s),
    size: (n, s) => inner.size(n, s),
    exists: (n, s) => inner.exists(n, s),
    readBytes: (n, cb, s) => {
      dataReads.push(n);
      return inner.readBytes(n, cb, s);
    },
    async *readStream(n, s) {
      dataReads.push(n);
      for await (const c of inner.readStream(n, s)) {
        if (!chunk) yield c;
        else for (let i = 0; i < c.byteLength; i += chunk) yield c.subarray(i, i + chunk);
      }
    },
  };
}

describe('loadModelFiles on stories260K-hf', () => {
  let tmp = '';
  beforeAll(async () => {
    tmp = await mkdtemp(`${tmpdir()}/kvshare-load-`);
  });
  afterAll(() => rm(tmp, { recursive: true, force: true }));

  /** A copy of the stories folder in `tmp/name` with config.json changed by `edit`. */
  async function storiesCopy(name: string, edit: (c: Record<string, unknown>) => void): Promise<string> {
    const dir = `${tmp}/${name}`;
    const { mkdir } = await import('node:fs/promises');
    await mkdir(dir);
    const cfg = JSON.parse(await readFile(`${storiesDir()}/config.json`, 'utf8'));
    edit(cfg);
    await writeFile(`${dir}/config.json`, JSON.stringify(cfg));
    await copyFile(`${storiesDir()}/model.safetensors`, `${dir}/model.safetensors`);
    return dir;
  }

  it('loads 47 F32 tensors matching the config, with progress ending at the total', async () => {
    const events: LoadProgress[] = [];
    const m = await loadModelFiles(storiesDir(), { onProgress: (p) => events.push(p) });
    expect(m.tensors.size).toBe(47);
    expect(m.config).toMatchObject({
      vocabSize: 512,
      hiddenSize: 64,
      numLayers: 5,
      numKvHeads: 4,
      headDim: 8,
    });
    expect(m.tensors.has('lm_head.weight')).toBe(false);
    const embed = m.tensors.get('model.embed_tokens.weight')!;
    expect(embed.shape).toEqual([512, 64]);
    expect(embed.dtype).toBe('F32');
    expect(embed.data).toBeInstanceOf(Float32Array);
    expect(f32Values(embed).length).toBe(512 * 64);
    expect(m.tensors.get('model.layers.4.mlp.down_proj.weight')!.shape).toEqual([64, 172]);
    expect(m.totalBytes).toBe(1044992);
    expect(m.location).toBe(storiesDir());
    expect(m.fingerprint).toMatch(/^[0-9a-f]{64}$/);

    expect(events.length).toBeGreaterThan(0);
    let last = -1;
    for (const e of events) {
      expect(e.kind).toBe('fetch');
      if (e.kind !== 'fetch') continue;
      expect(e.loadedBytes).toBeGreaterThanOrEqual(last);
      expect(e.totalBytes).toBe(m.totalBytes);
      expect(e.file).toBe('model.safetensors');
      last = e.loadedBytes;
    }
    expect(last).toBe(m.totalBytes);
  });

  it('decodes exactly what an in-memory parse gives, whatever the stream chunking', async () => {
    const reference = parseSafetensors(new Uint8Array(await readFile(`${storiesDir()}/model.safetensors`)));
    const plain = await loadModelFiles(storiesDir());
    const chunked = await loadModelFiles(spySource(openModelSource(storiesDir()), 997));
    const bytes = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
    for (const [name, t] of reference) {
      expect(bytes(f32Values(plain.tensors.get(name)!)).equals(bytes(f32Values(t))), name).toBe(true);
      expect(bytes(f32Values(chunked.tensors.get(name)!)).equals(bytes(f32Values(t))), name).toBe(true);
    }
    expect(chunked.fingerprint).toBe(plain.fingerprint);
  });

  it('gives a stable fingerprint that changes with the config', async () => {
    const a = await loadModelFiles(storiesDir());
    const b = await loadModelFiles(storiesDir());
    expect(b.fingerprint).toBe(a.fingerprint);
    const same = await storiesCopy('same', (c) => {
      c.initializer_range = 0.5; // not part of the normalised config
    });
    expect((await loadModelFiles(same)).fingerprint).toBe(a.fingerprint);
    const theta = await storiesCopy('theta', (c) => {
      c.rope_theta = 20000;
    });
    expect((await loadModelFiles(theta)).fingerprint).not.toBe(a.fingerprint);
  });

  it('lets checkTensors stop the load before any weight data is read', async () => {
    const src = spySource(openModelSource(storiesDir()));
    const events: LoadProgress[] = [];
    let seen: { name: string; shape: number[]; dtype: string; byteLength: number }[] = [];
    const load = loadModelFiles(src, {
      onProgress: (p) => events.push(p),
      checkTensors: (infos) => {
        seen = infos;
        throw new TensorTooLargeError('too big for this test');
      },
    });
    await expect(load).rejects.toThrow(TensorTooLargeError);
    expect(seen).toHaveLength(47);
    expect(seen.find((t) => t.name === 'model.embed_tokens.weight')).toEqual({
      name: 'model.embed_tokens.weight',
      shape: [512, 64],
      dtype: 'F32',
      byteLength: 512 * 64 * 4,
    });
    expect(events.filter((e) => e.kind === 'fetch')).toEqual([]);
    expect(src.dataReads).toEqual([]);
  });

  it('reports missing folders and files with ModelFileMissingError', async () => {
    await expect(loadModelFiles(`${tmp}/no-such-model`)).rejects.toThrow(ModelFileMissingError);
    await expect(loadModelFiles(`${tmp}/no-such-model`)).rejects.toThrow(/does not exist/);
    const { mkdir } = await import('node:fs/promises');
    await mkdir(`${tmp}/empty`);
    await expect(loadModelFiles(`${tmp}/empty`)).rejects.toThrow(/config\.json is missing/);
    await writeFile(`${tmp}/empty/config.json`, await readFile(`${storiesDir()}/config.json`));
    await expect(loadModelFiles(`${tmp}/empty`)).rejects.toThrow(/model\.safetensors is missing/);
  });

  it('accepts file:// URLs in Node', async () => {
    const url = new URL(`file://${storiesDir()}/`).href;
    const m = await loadModelFiles(url);
    expect(m.tensors.size).toBe(47);
    expect(m.location).toBe(url);
  });

  it('checks tensor names and shapes against the config', async () => {
    const untied = await storiesCopy('untied', (c) => {
      c.tie_word_embeddings = false;
    });
    await expect(loadModelFiles(untied)).rejects.toThrow(ModelFormatError);
    await expect(loadModelFiles(untied)).rejects.toThrow(/lm_head\.weight/);
    const wrongF = await storiesCopy('wrong-f', (c) => {
      c.intermediate_size = 171;
    });
    await expect(loadModelFiles(wrongF)).rejects.toThrow(/gate_proj\.weight has shape \[172, 64\]/);
    const moreLayers = await storiesCopy('more-layers', (c) => {
      c.num_hidden_layers = 6;
    });
    await expect(loadModelFiles(moreLayers)).rejects.toThrow(
      /num_hidden_layers is 6, but the checkpoint holds 5 layers/,
    );
  });

  it('aborts with AbortError, before or during the data read', async () => {
    const before = new AbortController();
    before.abort();
    await expect(loadModelFiles(storiesDir(), { signal: before.signal })).rejects.toThrow(AbortError);

    const during = new AbortController();
    let maxLoaded = 0;
    const src = spySource(openModelSource(storiesDir()), 4096);
    const load = loadModelFiles(src, {
      signal: during.signal,
      onProgress: (p) => {
        if (p.kind === 'fetch') maxLoaded = Math.max(maxLoaded, p.loadedBytes);
        if (p.kind === 'fetch' && p.loadedBytes > 0) during.abort();
      },
    });
    await expect(load).rejects.toThrow(AbortError);
    expect(maxLoaded).toBeLessThan(1044992);
    expect(src.dataReads).toEqual(['model.safetensors']);
  });
});
