// Kernel steps of the Gemma block against their references: the embedding gather's scale (√D in
// f32) in every table format, RMSNorm with the residual add folded in (post-norms), the per-layer
// RoPE tables (Gemma 3's local layers: own base, unscaled), and the (1 + w) norm weights at load.
// GeGLU and the final soft-cap are matmul epilogues: test/helpers/matmul-epilogues.ts.
import { beforeAll, describe, expect, it } from 'vitest';
import { ropeTable, uploadLayerRopeTables } from '../../src/llama/rope-table.ts';
import { parseConfig } from '../../src/model/config.ts';
import { withNormOffset } from '../../src/model/weights/norm-offset.ts';
import { gatherRowsOps } from '../../src/ops/embed.ts';
import { rmsnormOp } from '../../src/ops/rmsnorm.ts';
import type { WeightFormat } from '../../src/ops/weight-format.ts';
import { ARCH_CONFIGS } from '../helpers/arch-models.ts';
import { type KernelHarness, kernelHarness, randn, toleranceRatio } from '../helpers/gpu.ts';
import { weightParts } from '../helpers/weight-parts.ts';
import * as ref from '../reference/ops.ts';

let h: KernelHarness;
beforeAll(async () => {
  h = await kernelHarness();
});

describe('embedding gather × scale', () => {
  it.each(['f32', 'bf16', 'f16', 'q8', 'q4', 'q6k'] as WeightFormat[])(
    '%s table: rows × √D, in f32',
    async (format) => {
      const dim = format === 'q6k' ? 256 : 64;
      const { parts, exact } = weightParts(h, randn(9 * dim, 1, 0.1), dim, 2, format); // [9, dim]
      const idx = [3, 8, 0, 3];
      const out = h.zeros(idx.length * dim);
      const scale = Math.fround(Math.sqrt(2304)); // gemma-2-2b: 48
      h.run(
        gatherRowsOps(h.k, { idx: h.u32(idx), table: parts, out, dim, rows: h.rows(4), label: 'e', scale }),
      );
      const want = ref.gatherRows(exact, dim, idx).map((v) => Math.fround(v * scale));
      const got = await h.read(out, idx.length * dim);
      // 16-bit and f32 tables widen exactly; quantized ones dequantize within f32 rounding
      if (['f32', 'bf16', 'f16'].includes(format)) expect(Array.from(got)).toEqual(Array.from(want));
      else expect(toleranceRatio(got, want, 1e-6, 1e-6)).toBeLessThan(1);
    },
  );
});

describe('rmsnorm with accumulate (x += rmsnorm(y) * w)', () => {
  it.each([
    [3, 64],
    [2, 300],
  ])('%i rows of %i', async (n, dim) => {
    const y = randn(n * dim, 2, 3); // [n, dim] the sublayer's output
    const x0 = randn(n * dim, 3); // [n, dim] the residual stream
    const w = randn(dim, 4).map((v) => 1 + 0.3 * v); // [dim]
    const x = h.f32(x0);
    h.run([
      rmsnormOp(h.k, {
        x: h.f32(y),
        w: h.f32(w),
        out: x,
        dim,
        eps: 1e-6,
        rows: h.rows(n),
        label: 'post',
        accumulate: true,
      }),
    ]);
    const want = ref.rmsnorm(y, w, dim, 1e-6).map((v, i) => v + x0[i]);
    expect(toleranceRatio(await h.read(x, n * dim), want, 1e-5, 1e-4)).toBeLessThan(1);
  });
});

describe('per-layer RoPE tables', () => {
  it("Gemma 3: local layers share an unscaled table of their own base, global ones the model's scaled one", async () => {
    const cfg = parseConfig({ ...ARCH_CONFIGS.gemma3, num_hidden_layers: 4 }); // local 0, 2; global 1, 3
    const tables = uploadLayerRopeTables(h.k.device, cfg, 32);
    expect(tables[0]).toBe(tables[2]);
    expect(tables[1]).toBe(tables[3]);
    expect(tables[0]).not.toBe(tables[1]);
    const [local, global] = [await h.read(tables[0], 32 * 64), await h.read(tables[1], 32 * 64)];
    expect(Array.from(local)).toEqual(Array.from(ropeTable(32, 64, 10000)));
    expect(Array.from(global)).toEqual(Array.from(ropeTable(32, 64, 1e6, { type: 'linear', factor: 4 })));
  });

  it('one table for a model with one RoPE', () => {
    const cfg = parseConfig({ ...ARCH_CONFIGS.gemma2, num_hidden_layers: 3 });
    expect(new Set(uploadLayerRopeTables(h.k.device, cfg, 8)).size).toBe(1);
  });
});

describe("Gemma's (1 + w) norm weights", () => {
  it('adds 1 to every norm weight of a Gemma checkpoint, and to nothing else', () => {
    const gemma = parseConfig(ARCH_CONFIGS.gemma3);
    const t = (name: string, shape: number[]) => ({
      name,
      shape,
      dtype: 'F32' as const,
      data: new Float32Array(shape[0]).fill(0.25),
    });
    for (const n of [
      'model.norm.weight',
      'model.layers.0.self_attn.q_norm.weight',
      'model.layers.1.post_feedforward_layernorm.weight',
    ])
      expect(withNormOffset(gemma, t(n, [4])).data?.[0]).toBe(1.25);
    expect(withNormOffset(gemma, t('model.layers.0.self_attn.q_proj.weight', [4])).data?.[0]).toBe(0.25);
    expect(withNormOffset(parseConfig(ARCH_CONFIGS.qwen3), t('model.norm.weight', [4])).data?.[0]).toBe(0.25);
  });
});
