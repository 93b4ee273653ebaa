import { beforeAll, describe, expect, it } from 'vitest';
import { uploadBytes } from '../../src/gpu/buffers.ts';
import { uploadRopeTable } from '../../src/llama/rope-table.ts';
import { kvScatterOp } from '../../src/ops/kvcache.ts';
import { kvPatchOp } from '../../src/ops/kvpatch.ts';
import { ropeOp } from '../../src/ops/rope.ts';
import {
  f16ArrayToF32,
  f16BitsToF32,
  f32ArrayToF16,
  f32ToF16Bits,
  roundF16,
} from '../../src/util/kv-dtype.ts';
import { type KernelHarness, kernelHarness, randn, toleranceRatio } from '../helpers/gpu.ts';
import { describeKVReaders } from '../helpers/kv-readers.ts';
import { runRopeKv } from '../helpers/kv-writers.ts';
import * as ref from '../reference/ops.ts';

// The f16 KV cache: halves packed two per u32 (pack2x16float), arithmetic in f32. Writers are
// checked against the f32 reference rounded to halves (ref.kvStored), readers against the f32
// reference over the halves' exact values.
let h: KernelHarness;
beforeAll(async () => {
  h = await kernelHarness();
});

/** [n] f32 → a GPU buffer of n halves. */
const f16 = (a: Float32Array) => uploadBytes(h.k.device, f32ArrayToF16(a), 'f16');
/** A buffer of n halves, widened. */
const readF16 = async (b: GPUBuffer, n: number) =>
  f16ArrayToF32(new Uint16Array((await h.readU32(b, n / 2)).buffer));
/** Half ulp at |x|: what one rounding of an f32 result that lies within f32 noise of a halfway point can flip. */
const HALF_ULP = { atol: 2 ** -24, rtol: 2 ** -10 };

describe('f16 conversions (host)', () => {
  it('round to nearest even, keep subnormals, saturate to Inf past 65504, and widen exactly', () => {
    expect(f32ToF16Bits(1)).toBe(0x3c00);
    expect(f32ToF16Bits(-2)).toBe(0xc000);
    expect(f32ToF16Bits(65504)).toBe(0x7bff);
    expect(f32ToF16Bits(65520)).toBe(0x7c00); // halfway to the next exponent: rounds up to Inf
    expect(f32ToF16Bits(2 ** -24)).toBe(1); // smallest subnormal
    expect(f32ToF16Bits(2 ** -26)).toBe(0);
    expect(f32ToF16Bits(1 + 2 ** -11)).toBe(0x3c00); // tie → even
    expect(f32ToF16Bits(1 + 3 * 2 ** -11)).toBe(0x3c02); // tie → even (up)
    expect(Number.isNaN(f16BitsToF32(f32ToF16Bits(Number.NaN)))).toBe(true);
    for (let bits = 0; bits < 0x7c00; bits += 7) expect(f32ToF16Bits(f16BitsToF32(bits))).toBe(bits);
    expect(roundF16(0.1)).toBeCloseTo(0.0999755859375, 12);
  });
});

describe('f16 KV writers', () => {
  it('scatter16 stores what pack2x16float gives, bit for bit', async () => {
    const kvDim = 24;
    const ctx = 16;
    const n = 3;
    const pos = [5, 0, 15];
    const k = randn(n * kvDim, 1, 3);
    const v = randn(n * kvDim, 2, 3);
    const kc0 = randn(ctx * kvDim, 3);
    const vc0 = randn(ctx * kvDim, 4);
    const [kcb, vcb] = [f16(kc0), f16(vc0)];
    h.run([
      kvScatterOp(h.k, {
        pos: h.u32(new Int32Array(pos)),
        k: h.f32(k),
        v: h.f32(v),
        kc: kcb,
        vc: vcb,
        kvDim,
        headDim: kvDim,
        dtype: 'f16',
        rows: h.rows(n),
        label: 'scatter16',
      }),
    ]);
    const [kc, vc] = [kc0.slice(), vc0.slice()];
    pos.forEach((p, r) => {
      kc.set(k.subarray(r * kvDim, (r + 1) * kvDim), p * kvDim);
      vc.set(v.subarray(r * kvDim, (r + 1) * kvDim), p * kvDim);
    });
    expect(Array.from(await readF16(kcb, ctx * kvDim))).toEqual(Array.from(ref.kvStored(kc, 'f16')));
    expect(Array.from(await readF16(vcb, ctx * kvDim))).toEqual(Array.from(ref.kvStored(vc, 'f16')));
  });

  it.each([
    [3, 4, 2, 8],
    [2, 9, 3, 64],
  ])(
    'rope_kv16 n=%i H=%i KV=%i hd=%i: queries rotated in place, keys and values stored as halves',
    async (n, H, KV, hd) => {
      const c = runRopeKv(h, { dtype: 'f16', upload: f16 }, [n, H, KV, hd], 'rope_kv16');
      const cells = c.ctx * c.kvDim;
      expect(toleranceRatio(await h.read(c.qb, n * H * hd), c.eq, 1e-5, 1e-4)).toBeLessThan(1);
      const wantK = ref.kvStored(c.kc, 'f16');
      expect(toleranceRatio(await readF16(c.kcb, cells), wantK, HALF_ULP.atol, HALF_ULP.rtol)).toBeLessThan(
        1,
      );
      expect(Array.from(await readF16(c.vcb, cells))).toEqual(Array.from(ref.kvStored(c.vc, 'f16')));
    },
  );

  it('rope_kv16 refuses a head size that is not a multiple of 4', () => {
    const b = h.zeros(4);
    const cache = { v: b, kc: b, vc: b, dtype: 'f16' as const };
    expect(() =>
      ropeOp(h.k, {
        x: b,
        pos: b,
        table: b,
        nHeads: 1,
        headDim: 6,
        rowStride: 6,
        second: { x: b, nHeads: 1, rowStride: 6 },
        cache,
        rows: h.rows(1),
        label: 'x',
      }),
    ).toThrow(/headDim % 4 == 0/);
  });

  it('patch_rows16 re-rotates keys in f32 and copies values word for word; a shift of 0 is exact', async () => {
    const nKv = 3;
    const hd = 12;
    const kvDim = nKv * hd;
    const T = 9;
    const ctx = 64;
    const ksrc = ref.kvStored(randn(T * kvDim, 21), 'f16'); // what an f16 entry holds
    const vsrc = ref.kvStored(randn(T * kvDim, 22), 'f16');
    const kc = ref.kvStored(randn(ctx * kvDim, 23), 'f16');
    const vc = ref.kvStored(randn(ctx * kvDim, 24), 'f16');
    const rowmap: [number, number, number][] = [
      [0, 5, 0],
      [3, 3, 3],
      [8, 6, 8],
      [2, 42, 2],
      [2, 43, 2],
    ];
    const [kcb, vcb] = [f16(kc), f16(vc)];
    h.run([
      kvPatchOp(h.k, {
        rowmap: h.u32(new Int32Array(rowmap.flatMap(([s, d, o]) => [s, d, o, 0]))),
        table: uploadRopeTable(h.k.device, ctx, hd, 10000),
        ksrc: f16(ksrc),
        vsrc: f16(vsrc),
        kc: kcb,
        vc: vcb,
        nKvHeads: nKv,
        headDim: hd,
        dtype: 'f16',
        rows: h.rows(rowmap.length),
        label: 'patch16',
      }),
    ]);
    ref.kvPatch(rowmap, ksrc, vsrc, kc, vc, { nKvHeads: nKv, headDim: hd, theta: 10000 });
    const gotK = await readF16(kcb, ctx * kvDim);
    expect(toleranceRatio(gotK, ref.kvStored(kc, 'f16'), HALF_ULP.atol, HALF_ULP.rtol)).toBeLessThan(1);
    expect(Array.from(gotK.subarray(3 * kvDim, 4 * kvDim))).toEqual(
      Array.from(ksrc.subarray(3 * kvDim, 4 * kvDim)),
    );
    expect(Array.from(await readF16(vcb, ctx * kvDim))).toEqual(Array.from(vc));
  });
});

describeKVReaders({
  dtype: 'f16',
  harness: () => h,
  upload: f16,
  shapes: [
    [1, 9, 3, 64, [143]],
    [4, 6, 2, 12, [0, 5, 2, 11]],
    [2, 4, 1, 128, [200, 77]],
  ],
  deviation: [[36, 12]],
  deviationWhat: 'rounded to halves',
});
