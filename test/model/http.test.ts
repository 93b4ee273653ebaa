import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeSyntheticModel } from '../../src/cli/synthetic/synthetic.ts';
import { AbortError, ModelFileMissingError, ModelFormatError } from '../../src/errors.ts';
import { loadModelFiles } from '../../src/model/load.ts';
import { openModelSource } from '../../src/model/source/source.ts';
import type { LoadProgress } from '../../src/model/types.ts';
import { storiesDir } from '../helpers/models.ts';
import { serveFolder, type TestServer } from './serve.ts';

describe('loading over HTTP', () => {
  let server: TestServer;
  let folderFingerprint = '';
  const synth = `${tmpdir()}/kvshare-http-${process.pid}`;

  beforeAll(async () => {
    server = await serveFolder(storiesDir());
    folderFingerprint = (await loadModelFiles(storiesDir())).fingerprint;
  });
  afterAll(async () => {
    await server.close();
    await rm(synth, { recursive: true, force: true });
  });

  it('gives the same tensors and fingerprint as the folder, reading headers with Range', async () => {
    server.requests.length = 0;
    const events: LoadProgress[] = [];
    let requestsAtCheck = 0;
    const m = await loadModelFiles(server.url, {
      onProgress: (p) => events.push(p),
      checkTensors: () => {
        requestsAtCheck = server.requests.length;
      },
    });
    expect(m.fingerprint).toBe(folderFingerprint);
    expect(m.tensors.size).toBe(47);
    expect(m.location).toBe(server.url);
    // Before checkTensors: config, then only HEAD and ranged GETs of the weights file.
    const early = server.requests.slice(0, requestsAtCheck).filter((r) => r.path === 'model.safetensors');
    expect(early.length).toBeGreaterThan(0);
    expect(early.every((r) => r.method === 'HEAD' || (r.range !== null && r.status === 206))).toBe(true);
    const last = events.at(-1);
    expect(last).toMatchObject({ kind: 'fetch', loadedBytes: 1044992, totalBytes: 1044992 });
  });

  it('falls back to reading from the start when the server ignores Range', async () => {
    const plain = await serveFolder(storiesDir(), { ignoreRange: true, noHead: true });
    try {
      const src = openModelSource(plain.url);
      const bytes = await src.readRange('model.safetensors', 100, 5000);
      expect(bytes).toEqual(await openModelSource(storiesDir()).readRange('model.safetensors', 100, 5000));
      expect(await src.size('model.safetensors')).toBe(1044992);
      expect(await src.exists('config.json')).toBe(true);
      expect(await src.exists('nope.json')).toBe(false);
      expect((await loadModelFiles(plain.url)).fingerprint).toBe(folderFingerprint);
      expect(plain.requests.some((r) => r.range !== null && r.status === 200)).toBe(true);
    } finally {
      await plain.close();
    }
  });

  it('reports 404s as ModelFileMissingError naming the file and URL', async () => {
    const src = openModelSource(`${server.url}nowhere/`);
    await expect(src.readJson('config.json')).rejects.toThrow(ModelFileMissingError);
    await expect(src.readJson('config.json')).rejects.toThrow(
      /config\.json is missing at http:\/\/127\.0\.0\.1:\d+\/nowhere\/config\.json \(HTTP 404/,
    );
    await expect(loadModelFiles(`${server.url}nowhere`)).rejects.toThrow(ModelFileMissingError);
    expect(await openModelSource(server.url).exists('model.safetensors.index.json')).toBe(false);
  });

  it('reports an unreachable server as ModelFileMissingError', async () => {
    const down = await serveFolder(storiesDir());
    const url = down.url;
    await down.close();
    await expect(openModelSource(url).readJson('config.json')).rejects.toThrow(ModelFileMissingError);
  });

  it('reads ranges past the end as a truncated file', async () => {
    const src = openModelSource(server.url);
    await expect(src.readRange('config.json', 600, 700)).rejects.toThrow(ModelFormatError);
    await expect(src.readRange('config.json', 5000, 5010)).rejects.toThrow(ModelFormatError);
    expect(new TextDecoder().decode(await src.readRange('config.json', 0, 1))).toBe('{');
  });

  it('reports readBytes progress up to the file size', async () => {
    const seen: [number, number | null][] = [];
    const bytes = await openModelSource(server.url).readBytes('model.safetensors', (l, t) =>
      seen.push([l, t]),
    );
    expect(bytes.byteLength).toBe(1044992);
    expect(seen.at(-1)).toEqual([1044992, 1044992]);
    expect(seen.every(([l], i) => i === 0 || l >= seen[i - 1][0])).toBe(true);
  });

  it('loads a sharded BF16 checkpoint over HTTP like from the folder', async () => {
    await writeSyntheticModel({ shape: 'tiny-qwen2', out: synth, dtype: 'BF16', shards: 2, seed: 11 });
    const sharded = await serveFolder(synth);
    try {
      const viaHttp = await loadModelFiles(sharded.url);
      const viaFolder = await loadModelFiles(synth);
      expect(viaHttp.fingerprint).toBe(viaFolder.fingerprint);
      expect(viaHttp.totalBytes).toBe(viaFolder.totalBytes);
    } finally {
      await sharded.close();
    }
  });

  it('aborts a download in progress with AbortError', async () => {
    const slow = await serveFolder(storiesDir(), { slowMs: 20 });
    try {
      const ctl = new AbortController();
      let maxLoaded = 0;
      const load = loadModelFiles(slow.url, {
        signal: ctl.signal,
        onProgress: (p) => {
          if (p.kind === 'fetch') maxLoaded = Math.max(maxLoaded, p.loadedBytes);
          if (p.kind === 'fetch' && p.loadedBytes > 0) ctl.abort();
        },
      });
      await expect(load).rejects.toThrow(AbortError);
      expect(maxLoaded).toBeLessThan(1044992);
    } finally {
      await slow.close();
    }
  });
});
