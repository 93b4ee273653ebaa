import { beforeAll, describe, expect, it } from 'vitest';
import { nodeShaderLibrary } from '../../src/gpu/shaders-node.ts';
import { makeEntry } from '../../src/kvshare/entry.ts';
import { type PatchRow, ReuseKit, readCacheRows } from '../../src/llama/reuse.ts';
import { LlamaRunner } from '../../src/llama/runner.ts';
import { loadModelFiles } from '../../src/model/load.ts';
import { testGpu } from '../helpers/gpu.ts';
import { storiesDir } from '../helpers/models.ts';

let runner: LlamaRunner;
let kit: ReuseKit;

beforeAll(async () => {
  const files = await loadModelFiles(storiesDir());
  runner = LlamaRunner.build(await testGpu(), nodeShaderLibrary(), files.config, files.tensors, {
    contextLength: 512,
  });
  kit = new ReuseKit(runner);
});

const A = [1, 403, 407, 261, 378, 432, 383, 286, 261, 376, 298, 315, 421, 395, 317];

async function kvOf(tokens: number[]) {
  await runner.forward(tokens.map((token, position) => ({ token, position })));
  return readCacheRows(runner, tokens.length);
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

describe('GPU patch of cached K/V', () => {
  it.each([
    ['moved right by 7 (tokens inserted before)', 7],
    ['moved left by 4 (tokens deleted before)', -4],
    ['moved right by 300', 300],
  ])('re-rotated layer-0 keys equal freshly computed ones (%s) within 1e-5', async (_, shift) => {
    const kvDim = runner.cache.kvDim;
    const cached = await kvOf(A);
    const entry = makeEntry({
      id: 'a',
      fingerprint: 'x',
      tokens: A,
      numLayers: 5,
      kvDim,
      k: cached.k,
      v: cached.v,
      now: 0,
    });
    // B: A's tokens from `from` on, placed at position i + shift.
    const from = Math.max(0, -shift);
    const rows: PatchRow[] = [];
    for (let i = from; i < A.length; i++) rows.push({ src: i, dst: i + shift, old: i });
    const B = new Array(A.length + shift).fill(0).map((_, i) => (i >= shift + from ? A[i - shift] : 5 + i));
    await kit.patch([entry], [rows]);
    const patched = await readCacheRows(runner, B.length);
    const fresh = await kvOf(B);
    const lo = (from + shift) * kvDim;
    const hi = B.length * kvDim;
    expect(maxAbsDiff(patched.k[0].subarray(lo, hi), fresh.k[0].subarray(lo, hi))).toBeLessThan(1e-5);
    // V of layer 0 is position-independent: copied exactly.
    expect(Array.from(patched.v[0].subarray(lo, hi))).toEqual(Array.from(fresh.v[0].subarray(lo, hi)));
  });

  it('the deviation score is zero for rows that are already exact', async () => {
    await kvOf(A);
    const score = await kit.scoreRows(
      A.map((token, position) => ({ token, position })),
      A.length - 2,
    );
    expect(Math.max(...score.map(Math.abs))).toBeLessThan(1e-5);
    // ... and positive where the cached layer-1 V differs (shifted context).
    const shifted = [7, ...A.slice(0, -1)];
    await kvOf(A);
    const s2 = await kit.scoreRows(
      shifted.map((token, position) => ({ token, position })),
      shifted.length - 2,
    );
    expect(Math.max(...s2)).toBeGreaterThan(1e-4);
  });
});
