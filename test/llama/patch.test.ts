import { beforeAll, describe, expect, it } from 'vitest';
import { nodeShaderLibrary } from '../../src/gpu/shaders-node.ts';
import { makeEntry } from '../../src/kvshare/entry.ts';
import { HotTier } from '../../src/llama/hot-tier.ts';
import { type PatchRow, ReuseKit, readCacheRows } from '../../src/llama/reuse-kit.ts';
import { LlamaRunner } from '../../src/llama/runner.ts';
import { loadModelFiles } from '../../src/model/load.ts';
import { type KVArray, kvToF32 } from '../../src/util/kv-dtype.ts';
import { q8Bytes } from '../../src/util/kv-q8.ts';
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

/** Largest |x - y| over the values of x and y (q8: in groups of g). */
function maxAbsDiff(x: KVArray, y: KVArray, g = 0): number {
  const [a, b] = [kvToF32(x, g), kvToF32(y, g)];
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
    await kit.patch([{ host: entry, rows }]);
    const patched = await readCacheRows(runner, B.length);
    const fresh = await kvOf(B);
    const lo = (from + shift) * kvDim;
    const hi = B.length * kvDim;
    expect(maxAbsDiff(patched.k[0].subarray(lo, hi), fresh.k[0].subarray(lo, hi))).toBeLessThan(1e-5);
    // V of layer 0 is position-independent: copied exactly.
    expect(Array.from(patched.v[0].subarray(lo, hi))).toEqual(Array.from(fresh.v[0].subarray(lo, hi)));
  });

  it('the deviation signals are zero for rows that are already exact', async () => {
    await kvOf(A);
    const all = ['paper', 'dv', 'dk'] as const;
    const exact = await kit.scoreRows(
      A.map((token, position) => ({ token, position })),
      A.length - 2,
      all,
    );
    for (const name of all) {
      expect(exact[name]!.length).toBe(A.length);
      expect(Math.max(...exact[name]!.map(Math.abs))).toBeLessThan(1e-5);
    }
    // ... and positive where the cached layer-1 K/V differ (shifted context).
    const shifted = [7, ...A.slice(0, -1)];
    await kvOf(A);
    const moved = await kit.scoreRows(
      shifted.map((token, position) => ({ token, position })),
      shifted.length - 2,
      all,
    );
    for (const name of all) expect(Math.max(...moved[name]!)).toBeGreaterThan(1e-4);
    // only the signals asked for are read back
    expect(Object.keys(await kit.scoreRows([{ token: 1, position: 0 }], 0, ['dk']))).toEqual(['dk']);
  });
});

describe('hot tier and the continued scoring pass', () => {
  it('a GPU-resident entry patches the same K/V as uploading only the reused rows of its host copy', async () => {
    const kvDim = runner.cache.kvDim;
    const cached = await kvOf(A);
    const resident = new HotTier(runner.gpu.device, runner.cache, 1 << 20);
    expect(resident.keepFromLive('a', A.length)).toBe(true);
    expect(resident.stats()).toEqual({
      gpuEntries: 1,
      gpuBytes: resident.bytesFor(A.length),
      gpuBudgetBytes: 1 << 20,
      gpuPromotions: 0,
    });
    // Every third row of A, moved right by 5.
    const rows: PatchRow[] = [];
    for (let i = 0; i < A.length; i += 3) rows.push({ src: i, dst: i + 5, old: i });
    const read = async () => {
      const kv = await readCacheRows(runner, A.length + 5);
      return rows.flatMap((p) => [
        ...kv.k[3].subarray(p.dst * kvDim, (p.dst + 1) * kvDim),
        ...kv.v[4].subarray(p.dst * kvDim, (p.dst + 1) * kvDim),
      ]);
    };
    await kvOf([9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9]);
    await kit.patch([{ hot: resident.get('a')!, rows }]);
    const fromGpu = await read();
    await kvOf([8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8]);
    await kit.patch([{ host: cached, rows }]);
    expect(await read()).toEqual(fromGpu);
    // An entry promoted from host memory (uploaded whole) patches the same K/V too.
    expect(resident.promote('b', cached, A.length)).toBe(true);
    expect(resident.stats()).toMatchObject({ gpuEntries: 2, gpuPromotions: 1 });
    await kvOf([7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7]);
    await kit.patch([{ hot: resident.get('b')!, rows }]);
    expect(await read()).toEqual(fromGpu);
    expect(fromGpu.slice(kvDim, 2 * kvDim)).toEqual(Array.from(cached.v[4].subarray(0, kvDim)));
    resident.clear();
    expect(resident.stats().gpuBytes).toBe(0);
  });

  it('the hot tier evicts least recently used entries to stay under its byte budget', async () => {
    await kvOf(A);
    const resident = new HotTier(runner.gpu.device, runner.cache, 1);
    expect(resident.keepFromLive('too-big', A.length)).toBe(false);
    const two = new HotTier(runner.gpu.device, runner.cache, 2 * resident.bytesFor(A.length));
    two.keepFromLive('x', A.length);
    two.keepFromLive('y', A.length);
    two.get('x'); // y is now the least recently used
    two.keepFromLive('z', A.length);
    expect([two.has('x'), two.has('y'), two.has('z')]).toEqual([true, false, true]);
    expect(two.stats().gpuBytes).toBeLessThanOrEqual(two.budgetBytes);
    two.clear();
  });

  it('rows continued from the scoring pass (layer 1 on) give the same logits and K/V as a full forward', async () => {
    const kvDim = runner.cache.kvDim;
    const rowsA = A.map((token, position) => ({ token, position }));
    const full = await runner.forward(rowsA, { readLogits: true });
    const want = await readCacheRows(runner, A.length);
    await kvOf([9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9]); // stale rows everywhere
    await kit.scoreRows(rowsA, A.length - 2, []);
    const got = await kit.continueRows(rowsA, { readLogits: true });
    expect(Array.from(got.ids)).toEqual(Array.from(full.ids));
    expect(maxAbsDiff(got.logits!, full.logits!)).toBeLessThan(1e-4);
    const kv = await readCacheRows(runner, A.length);
    for (const l of [0, 1, 2, 4]) {
      expect(maxAbsDiff(kv.k[l], want.k[l])).toBeLessThan(1e-4);
      expect(maxAbsDiff(kv.v[l].subarray(0, A.length * kvDim), want.v[l])).toBeLessThan(1e-4);
    }
  });
});

describe('q8 K/V: patch, hot tier and deviation (keys quantized after RoPE)', () => {
  let q8: LlamaRunner;
  let q8Kit: ReuseKit;
  beforeAll(async () => {
    const files = await loadModelFiles(storiesDir());
    q8 = LlamaRunner.build(await testGpu(), nodeShaderLibrary(), files.config, files.tensors, {
      contextLength: 512,
      kvDtype: 'q8',
    });
    q8Kit = new ReuseKit(q8);
  });
  const kvOf8 = async (tokens: number[]) => {
    await q8.forward(tokens.map((token, position) => ({ token, position })));
    return readCacheRows(q8, tokens.length);
  };
  /** Root mean square of a - b. */
  const rms = (a: Float32Array, b: Float32Array) =>
    Math.sqrt(a.reduce((s, x, i) => s + (x - b[i]) ** 2, 0) / a.length);

  it('re-rotated q8 keys stay within 1.5 q8 steps of fresh ones; their error against f32 is reported', async () => {
    const { kvDim, group } = q8.cache;
    expect(group).toBe(8); // stories260K's heads of 8: one scale per (token, KV head)
    const shift = 300;
    const cached = await kvOf8(A);
    expect(cached.k[0]).toBeInstanceOf(Uint8Array);
    const rows: PatchRow[] = A.map((_, i) => ({ src: i, dst: i + shift, old: i }));
    const B = [...new Array(shift).fill(0).map((_, i) => 5 + (i % 50)), ...A];
    await q8Kit.patch([{ host: cached, rows }]);
    const patched = await readCacheRows(q8, B.length);
    const fresh = await kvOf8(B);
    const truth = await kvOf(B); // the f32 runner
    const [lo, hi] = [shift * kvDim, B.length * kvDim];
    const pick = (a: KVArray) => kvToF32(a, group).subarray(lo, hi); // rows shift .. shift + |A|
    const [p, f, t] = [pick(patched.k[0]), pick(fresh.k[0]), pick(truth.k[0])];
    let amax = 0;
    for (const x of t) amax = Math.max(amax, Math.abs(x));
    // one q8 step of a group is at most max |k| / 127
    expect(maxAbsDiff(p, f)).toBeLessThan((1.5 * amax) / 127);
    const [ePatched, eFresh] = [rms(p, t), rms(f, t)];
    console.log(
      `q8 layer-0 keys vs f32, shift ${shift}: RMS error fresh (one quantization) ${eFresh.toExponential(3)}, re-rotated (two) ${ePatched.toExponential(3)}, ratio ${(ePatched / eFresh).toFixed(3)}; max |k| ${amax.toFixed(3)}`,
    );
    expect(ePatched / eFresh).toBeLessThan(2);
    // V is position-independent: copied exactly.
    const [blo, bhi] = [q8Bytes(lo, group), q8Bytes(hi, group)];
    expect(Array.from(patched.v[0].subarray(blo, bhi))).toEqual(Array.from(fresh.v[0].subarray(blo, bhi)));
  });

  it('a GPU-resident q8 entry (kept and promoted) patches the same bytes as its host copy', async () => {
    const cached = await kvOf8(A);
    const resident = new HotTier(q8.gpu.device, q8.cache, 1 << 20);
    expect(resident.keepFromLive('a', A.length)).toBe(true);
    expect(resident.bytesFor(A.length)).toBe(2 * 5 * A.length * (q8.cache.kvDim / 8) * 12); // groups of 8: 12 bytes
    const rows: PatchRow[] = [];
    for (let i = 0; i < A.length; i += 3) rows.push({ src: i, dst: i + 5, old: i });
    const read = async () => {
      const kv = await readCacheRows(q8, A.length + 5);
      return [...kv.k[3], ...kv.v[4]];
    };
    const stale = new Array(20).fill(9);
    await kvOf8(stale);
    await q8Kit.patch([{ hot: resident.get('a')!, rows }]);
    const fromGpu = await read();
    await kvOf8(stale);
    await q8Kit.patch([{ host: cached, rows }]);
    expect(await read()).toEqual(fromGpu);
    expect(resident.promote('b', cached, A.length)).toBe(true);
    await kvOf8(stale);
    await q8Kit.patch([{ hot: resident.get('b')!, rows }]);
    expect(await read()).toEqual(fromGpu);
    resident.clear();
  });

  it('the deviation signals are zero for rows that are already exact', async () => {
    await kvOf8(A);
    const exact = await q8Kit.scoreRows(
      A.map((token, position) => ({ token, position })),
      A.length - 2,
      ['dv', 'dk'],
    );
    for (const name of ['dv', 'dk'] as const) expect(Math.max(...exact[name]!.map(Math.abs))).toBe(0);
  });
});
