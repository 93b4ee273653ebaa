// The attention selection (src/ops/attention-kernels.ts) without a GPU.
import { describe, expect, it } from 'vitest';
import { attendKernel, FLASH_MAX_ROWS, forwardAttention } from '../../src/ops/attention-kernels.ts';
import type { KernelContext } from '../../src/ops/context.ts';

const software = { software: true } as KernelContext;
const gpu = { software: false } as KernelContext;
const smol = { nHeads: 9, nKvHeads: 3, headDim: 64 };

describe('attention kernel selection', () => {
  it('software adapters run the thread kernels for every step; GPUs flash for a few rows, attend for more', () => {
    expect([1, 128].map((n) => forwardAttention(software, smol, n))).toEqual(['thread', 'thread']);
    expect(forwardAttention(gpu, smol, FLASH_MAX_ROWS)).toBe('flash');
    expect(forwardAttention(gpu, smol, FLASH_MAX_ROWS + 1)).toBe('attend');
    // a head shape the thread kernels cannot take falls back to the GPU path
    expect(forwardAttention(software, { nHeads: 9, nKvHeads: 3, headDim: 6 }, 1)).toBe('flash');
  });

  it('attentionOp (which keeps the weights): WG 256 for one row, attend_thread or WG 64 for more', () => {
    expect(attendKernel(gpu, 1)).toEqual({ entry: 'attend', consts: { WG: 256 } });
    expect(attendKernel(software, 1)).toEqual({ entry: 'attend', consts: { WG: 256 } });
    expect(attendKernel(gpu, 3)).toEqual({ entry: 'attend', consts: { WG: 64 } });
    expect(attendKernel(software, 3)).toEqual({ entry: 'attend_thread', consts: {} });
  });
});
