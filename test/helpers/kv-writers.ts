// The fused RoPE + K/V write (rope_kv) run once on random inputs, shared by the f32, f16 and q8 caches'
// tests (test/gpu/rope-kv.test.ts, kv-f16.test.ts, kv-q8.test.ts): the dispatch and what the float64
// reference says it leaves. Each dtype's test reads the cache back in its own format and checks it
// with its own tolerance (f32 closeness, half rounding, steps of a q8 group).
import type { KVDtype } from '../../src/api/model.ts';
import { uploadRopeTable } from '../../src/llama/rope-table.ts';
import { ropeOp } from '../../src/ops/rope.ts';
import * as ref from '../reference/ops.ts';
import { type KernelHarness, randn } from './gpu.ts';

/** How a test's cache stores K/V. */
export interface KVStore {
  dtype: KVDtype;
  /** [n] f32 values → a GPU buffer of them in `dtype`. */
  upload: (a: Float32Array) => GPUBuffer;
  /** The values a cache of `dtype` holds for `a` (default: `a`, as the cache's initial contents). */
  stored?: (a: Float32Array) => Float32Array;
}

export interface RopeKvCase {
  ctx: number;
  kvDim: number;
  qb: GPUBuffer; // [n, H·hd] f32, rotated in place
  kb: GPUBuffer; // [n, kvDim] f32, the keys' scratch rows
  kx: Float32Array; // [n, kvDim] what kb held
  kcb: GPUBuffer; // [ctx, kvDim] of the store's dtype
  vcb: GPUBuffer; // [ctx, kvDim] of the store's dtype
  eq: Float32Array; // [n, H·hd] the reference's rotated queries
  kc: Float32Array; // [ctx, kvDim] the reference's cache keys, before the store rounds them
  vc: Float32Array; // [ctx, kvDim] the reference's cache values, before the store rounds them
}

/**
 * rope_kv of n rows (positions 7, 150, 0) with H query and KV key/value heads of hd, into a 160-row
 * cache of random initial contents held by `store`; theta 10,000.
 */
export function runRopeKv(
  h: KernelHarness,
  store: KVStore,
  [n, H, KV, hd]: [number, number, number, number],
  label: string,
): RopeKvCase {
  const ctx = 160;
  const kvDim = KV * hd;
  const pos = [7, 150, 0].slice(0, n);
  const q = randn(n * H * hd, 21);
  const kx = randn(n * kvDim, 22);
  const v = randn(n * kvDim, 23);
  const stored = store.stored ?? ((a: Float32Array) => a);
  const kc = stored(randn(ctx * kvDim, 24));
  const vc = stored(randn(ctx * kvDim, 25));
  const [qb, kb, kcb, vcb] = [h.f32(q), h.f32(kx), store.upload(kc), store.upload(vc)];
  h.run([
    ropeOp(h.k, {
      x: qb,
      pos: h.u32(new Int32Array(pos)),
      table: uploadRopeTable(h.k.device, ctx, hd, 10000),
      nHeads: H,
      headDim: hd,
      rowStride: H * hd,
      second: { x: kb, nHeads: KV, rowStride: kvDim },
      cache: { v: h.f32(v), kc: kcb, vc: vcb, dtype: store.dtype },
      rows: h.rows(n),
      label,
    }),
  ]);
  const [eq, ek] = [Float32Array.from(q), Float32Array.from(kx)];
  ref.rope(eq, pos, { nHeads: H, headDim: hd, rowStride: H * hd, theta: 10000 });
  ref.rope(ek, pos, { nHeads: KV, headDim: hd, rowStride: kvDim, theta: 10000 });
  pos.forEach((p, r) => {
    kc.set(ek.subarray(r * kvDim, (r + 1) * kvDim), p * kvDim);
    vc.set(v.subarray(r * kvDim, (r + 1) * kvDim), p * kvDim);
  });
  return { ctx, kvDim, qb, kb, kx, kcb, vcb, eq, kc, vc };
}
