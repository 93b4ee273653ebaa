// The matmul selection table (src/ops/matmul-kernels.ts) without a GPU: which file, entry point,
// constants, swaps and launch shape each adapter, format and K get.
import { describe, expect, it } from 'vitest';
import type { KernelContext } from '../../src/ops/context.ts';
import { gemvSplit, matmulKernels, threadSplitWg } from '../../src/ops/matmul-kernels.ts';

const ctx = (software: boolean, subgroupSize: number | null) => ({ software, subgroupSize }) as KernelContext;
const lavapipe = ctx(true, 8);
const swiftshader = ctx(true, 4);
const gpu = ctx(false, 32);
const noSubgroups = ctx(false, null);

describe('matmul kernel selection', () => {
  it('splits GEMVs by adapter', () => {
    expect([lavapipe, swiftshader, gpu, noSubgroups].map(gemvSplit)).toEqual([
      'thread',
      'thread',
      'subgroup',
      'shared',
    ]);
  });

  it('software adapters: thread GEMV with x broadcast per subgroup, barrier-free GEMM', () => {
    const m = matmulKernels(lavapipe, 'bf16', 576, 'thread', 192);
    expect(m.one).toEqual({
      file: 'matmul_gemv_packed',
      entry: 'gemv_vec8',
      consts: { BF16: 1, ROWS: 1, OPT: 4, TPO: 1, WG: 8 },
      includes: { matmul_gemv_reduce: 'matmul_gemv_reduce_thread', matmul_x: 'matmul_x_subgroup' },
      outPerWg: 32,
      rowsPerWg: 1,
    });
    expect(m.few).toMatchObject({ entry: 'gemv_vec8_rows', consts: { OPT: 1, ROWS: 4 }, rowsPerWg: 4 });
    expect(m.gemm).toEqual({
      file: 'matmul_gemm_thread_packed',
      entry: 'gemm_vec8',
      consts: { BF16: 1 },
      includes: { matmul_x: 'matmul_x_subgroup' },
      outPerWg: 32,
      rowsPerWg: 32,
    });
    expect(matmulKernels(swiftshader, 'q4', 64, 'thread', 1536).gemm.includes).toEqual({
      matmul_x: 'matmul_x_subgroup4',
    });
    expect(threadSplitWg(1536)).toBe(64);
  });

  it('GPUs: subgroup or shared GEMV, tiled GEMM, no x swap', () => {
    const m = matmulKernels(gpu, 'f32', 64, 'subgroup', 1000);
    expect(m.one).toMatchObject({ file: 'matmul_gemv', consts: { TPO: 32, WG: 256, OPT: 4 }, outPerWg: 32 });
    expect(m.one.includes).toEqual({ matmul_gemv_reduce: 'matmul_gemv_reduce_subgroup' });
    expect(m.gemm).toMatchObject({ file: 'matmul_gemm', entry: 'gemm', includes: {} });
    expect(matmulKernels(noSubgroups, 'f16', 64, 'shared', 10).one).toMatchObject({
      consts: { BF16: 0, TPO: 8, WG: 256 },
      includes: {},
      outPerWg: 128,
    });
    expect(() => matmulKernels(noSubgroups, 'f32', 64, 'subgroup', 10)).toThrow(
      /needs an adapter with subgroups/,
    );
  });

  it('falls back to scalar kernels when K does not fit the vector loads, and the tiled GEMM with it', () => {
    expect(matmulKernels(lavapipe, 'f32', 6, 'thread', 8).one.file).toBe('matmul_gemv_scalar');
    expect(matmulKernels(lavapipe, 'f32', 6, 'thread', 8).gemm.file).toBe('matmul_gemm');
    expect(matmulKernels(lavapipe, 'bf16', 12, 'thread', 8).one.file).toBe('matmul_gemv_packed_scalar');
    const q = matmulKernels(lavapipe, 'q8', 48, 'thread', 8);
    expect([q.one.file, q.gemm.file]).toEqual(['matmul_gemv_quant_scalar', 'matmul_gemm_quant']);
    const k6 = matmulKernels(lavapipe, 'q6k', 256, 'thread', 8);
    expect([k6.one.file, k6.few.entry, k6.gemm.file]).toEqual(['matmul_gemv_q6k', 'gemv', 'matmul_gemm_q6k']);
  });
});
