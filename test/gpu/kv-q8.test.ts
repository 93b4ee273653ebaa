import { beforeAll, describe, expect, it } from 'vitest';
import { uploadBytes } from '../../src/gpu/buffers.ts';
import { uploadRopeTable } from '../../src/llama/rope-table.ts';
import { kvScatterOp } from '../../src/ops/kvcache.ts';
import { kvPatchOp } from '../../src/ops/kvpatch.ts';
import { dequantizeQ8, q8Bytes, q8GroupFor, q8Scales, quantizeQ8 } from '../../src/util/kv-q8.ts';
import { type KernelHarness, kernelHarness, randn, toleranceRatio } from '../helpers/gpu.ts';
import { describeKVReaders } from '../helpers/kv-readers.ts';
import { runRopeKv } from '../helpers/kv-writers.ts';
import * as ref from '../reference/ops.ts';

// The q8 KV cache: per group of G = q8GroupFor(headDim) values of a row (32 for heads of 64+, 8 for
// heads of 8, 24 for 48, 16 for 16), G / 4 words of int8 codes and an f32 scale (src/util/kv-q8.ts),
// arithmetic in f32. Writers are checked against the f32 reference quantized on the host
// (ref.kvStored / quantizeQ8), readers against the f32 reference over the codes' exact values; every
// kernel at G = 32, 8 and 24 (and 16 where shapes allow).
let h: KernelHarness;
beforeAll(async () => {
  h = await kernelHarness();
});

/** The q8 group of heads of hd values. */
const groupOf = (hd: number): number => q8GroupFor(hd) ?? Number.NaN;
/** [n] f32 → a GPU buffer of n values as q8 groups of the heads of hd values. */
const q8 = (a: Float32Array, hd: number) => uploadBytes(h.k.device, quantizeQ8(a, groupOf(hd)), 'q8');
/** The q8 bytes of a buffer of n values in groups of g. */
const readQ8Bytes = async (b: GPUBuffer, n: number, g: number) =>
  new Uint8Array((await h.readU32(b, q8Bytes(n, g) / 4)).buffer);
/** A buffer of n q8 values in groups of g, dequantized. */
const readQ8 = async (b: GPUBuffer, n: number, g: number) => dequantizeQ8(await readQ8Bytes(b, n, g), g);

/**
 * Largest |got - q8(want)| over a step of want's group (max |x| / 127): 1 or less where the GPU's
 * f32 rotation and the f64 reference land on either side of a rounding point, 0.5 would be a half step.
 */
function stepsOff(got: Float32Array, want: Float32Array, g: number): number {
  const stored = ref.kvStored(want, 'q8', g);
  const scales = q8Scales(quantizeQ8(want, g), g);
  let worst = 0;
  for (let i = 0; i < want.length; i++) {
    const s = scales[Math.floor(i / g)];
    const d = Math.abs(got[i] - stored[i]);
    worst = Math.max(worst, s > 0 ? d / s : d > 0 ? Infinity : 0);
  }
  return worst;
}

describe('q8 KV writers', () => {
  it.each([
    [96, 32],
    [96, 8],
    [96, 24],
    [32, 16],
  ])('scatter8 kvDim %i hd %i stores what the host quantizer gives, byte for byte', async (kvDim, hd) => {
    const g = groupOf(hd);
    const ctx = 16;
    const n = 3;
    const pos = [5, 0, 15];
    const k = randn(n * kvDim, 1, 3);
    const v = randn(n * kvDim, 2, 3);
    v.fill(0, g, 2 * g); // an all-zero group: scale 0
    const kc = randn(ctx * kvDim, 3);
    const vc = randn(ctx * kvDim, 4);
    const [kcb, vcb] = [q8(kc, hd), q8(vc, hd)];
    h.run([
      kvScatterOp(h.k, {
        pos: h.u32(new Int32Array(pos)),
        k: h.f32(k),
        v: h.f32(v),
        kc: kcb,
        vc: vcb,
        kvDim,
        headDim: hd,
        dtype: 'q8',
        rows: h.rows(n),
        label: 'scatter8',
      }),
    ]);
    pos.forEach((p, r) => {
      kc.set(k.subarray(r * kvDim, (r + 1) * kvDim), p * kvDim);
      vc.set(v.subarray(r * kvDim, (r + 1) * kvDim), p * kvDim);
    });
    expect(Array.from(await readQ8Bytes(kcb, ctx * kvDim, g))).toEqual(Array.from(quantizeQ8(kc, g)));
    expect(Array.from(await readQ8Bytes(vcb, ctx * kvDim, g))).toEqual(Array.from(quantizeQ8(vc, g)));
  });

  it('scatter8 refuses heads no q8 group fits (headDim % 4 != 0)', () => {
    const b = h.zeros(4);
    const a = {
      pos: b,
      k: b,
      v: b,
      kc: b,
      vc: b,
      kvDim: 36,
      headDim: 6,
      dtype: 'q8' as const,
      rows: h.rows(1),
      label: 'x',
    };
    expect(() => kvScatterOp(h.k, a)).toThrow(/needs headDim % 4 == 0/);
  });

  it.each([
    [3, 4, 4, 8],
    [2, 9, 3, 64],
    [1, 2, 1, 128],
    [2, 6, 2, 48],
    [3, 4, 2, 16],
  ])(
    'rope_kv8 n=%i H=%i KV=%i hd=%i: queries rotated in place, keys (after RoPE) and values stored as q8',
    async (n, H, KV, hd) => {
      const g = groupOf(hd);
      const store = {
        dtype: 'q8' as const,
        upload: (a: Float32Array) => q8(a, hd),
        stored: (a: Float32Array) => ref.kvStored(a, 'q8', g),
      };
      const c = runRopeKv(h, store, [n, H, KV, hd], 'rope_kv8');
      const cells = c.ctx * c.kvDim;
      expect(toleranceRatio(await h.read(c.qb, n * H * hd), c.eq, 1e-5, 1e-4)).toBeLessThan(1);
      expect(stepsOff(await readQ8(c.kcb, cells, g), c.kc, g)).toBeLessThanOrEqual(1.0001);
      expect(Array.from(await readQ8Bytes(c.vcb, cells, g))).toEqual(Array.from(quantizeQ8(c.vc, g)));
    },
  );

  it.each([
    [4, 8],
    [3, 64],
    [2, 24],
  ])(
    'patch_rows8 KV=%i hd=%i: keys dequantized, re-rotated in f32 and re-quantized; values and a shift of 0 copied word for word',
    async (nKv, hd) => {
      const kvDim = nKv * hd;
      const g = groupOf(hd);
      const T = 9;
      const ctx = 64;
      const ksrc = ref.kvStored(randn(T * kvDim, 21), 'q8', g); // what a q8 entry holds
      const vsrc = ref.kvStored(randn(T * kvDim, 22), 'q8', g);
      const kc = ref.kvStored(randn(ctx * kvDim, 23), 'q8', g);
      const vc = ref.kvStored(randn(ctx * kvDim, 24), 'q8', g);
      const rowmap: [number, number, number][] = [
        [0, 5, 0],
        [3, 3, 3],
        [8, 6, 8],
        [2, 42, 2],
        [2, 43, 2],
      ];
      const [kcb, vcb] = [q8(kc, hd), q8(vc, hd)];
      h.run([
        kvPatchOp(h.k, {
          rowmap: h.u32(new Int32Array(rowmap.flatMap(([s, d, o]) => [s, d, o, 0]))),
          table: uploadRopeTable(h.k.device, ctx, hd, 10000),
          ksrc: q8(ksrc, hd),
          vsrc: q8(vsrc, hd),
          kc: kcb,
          vc: vcb,
          nKvHeads: nKv,
          headDim: hd,
          dtype: 'q8',
          rows: h.rows(rowmap.length),
          label: 'patch8',
        }),
      ]);
      ref.kvPatch(rowmap, ksrc, vsrc, kc, vc, { nKvHeads: nKv, headDim: hd, theta: 10000 });
      const gotK = await readQ8(kcb, ctx * kvDim, g);
      expect(stepsOff(gotK, kc, g)).toBeLessThanOrEqual(1.0001);
      expect(Array.from(gotK.subarray(3 * kvDim, 4 * kvDim))).toEqual(
        Array.from(ksrc.subarray(3 * kvDim, 4 * kvDim)),
      );
      expect(Array.from(await readQ8(vcb, ctx * kvDim, g))).toEqual(Array.from(vc));
    },
  );
});

describeKVReaders({
  dtype: 'q8',
  harness: () => h,
  upload: q8,
  shapes: [
    [1, 9, 3, 64, [143]],
    [4, 8, 4, 8, [0, 5, 2, 11]],
    [2, 4, 1, 128, [200, 77]],
    [2, 6, 2, 48, [30, 61]],
    [3, 4, 2, 16, [1, 9, 20]],
  ],
  deviation: [
    [64, 64],
    [32, 8],
    [48, 24],
  ],
  deviationWhat: 'quantized in its groups',
});
