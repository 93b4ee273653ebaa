// Weights packed as they stream in (load with prep.keep = 'gpu'): 16-bit ones straight from the
// file's bits, or quantized on load (q8 / q4), then split into parts and run by the forward pass.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeSyntheticModel } from '../../src/cli/synthetic/synthetic.ts';
import type { GpuContext } from '../../src/gpu/device.ts';
import { nodeShaderLibrary } from '../../src/gpu/shaders-node.ts';
import { LlamaRunner } from '../../src/llama/runner.ts';
import { uploadWhileStreaming } from '../../src/llama/upload-matrix.ts';
import { type LoadedModelFiles, loadModelFiles } from '../../src/model/load.ts';
import { type DType, f32Values } from '../../src/model/types.ts';
import type { WeightPrep } from '../../src/model/weights/prepare.ts';
import { testGpu } from '../helpers/gpu.ts';

const tmp = mkdtempSync(join(tmpdir(), 'kvshare-quant-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const rows = [1, 9, 40, 300, 2, 77].map((token, position) => ({ token, position }));
let gpu: GpuContext;
beforeAll(async () => {
  gpu = await testGpu();
  for (const dtype of ['F32', 'BF16', 'F16'] as const) {
    await writeSyntheticModel({ shape: 'tiny-llama', out: join(tmp, dtype), seed: 11, dtype });
  }
});

function load(dtype: DType, prep?: WeightPrep): Promise<LoadedModelFiles> {
  return loadModelFiles(join(tmp, dtype), { prep });
}

function build(files: LoadedModelFiles, g: GpuContext = gpu): LlamaRunner {
  return LlamaRunner.build(g, nodeShaderLibrary(), files.config, files.tensors, { contextLength: 32 });
}

async function logits(r: LlamaRunner, n = rows.length): Promise<Float32Array> {
  return (await r.forward(rows.slice(0, n), { readLogits: true })).logits!;
}

function maxDiff(a: Float32Array, b: Float32Array): number {
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  return worst;
}

describe('weights packed while streaming', () => {
  it.each(['BF16', 'F16'] as const)(
    '%s: the file bits as they are, same logits as decode + re-encode',
    async (dtype) => {
      const decoded = await load(dtype);
      const packed = await load(dtype, { keep: 'gpu' });
      const emb = packed.tensors.get('model.embed_tokens.weight')!;
      expect(emb.data).toBeUndefined();
      expect(emb.packed?.format).toBe(dtype.toLowerCase());
      expect(packed.hostBytes).toBeLessThan(decoded.hostBytes * 0.52); // 2-D weights at 2 bytes
      expect(packed.fingerprint).toBe(decoded.fingerprint);
      const [a, b] = [build(decoded), build(packed)];
      expect(b.weights.bytes).toBe(a.weights.bytes);
      expect(Array.from(await logits(b))).toEqual(Array.from(await logits(a)));
      a.destroy();
      b.destroy();
    },
  );

  it.each([
    // tiny-llama rows are 48 or 128 values: a 48-value row takes 2 groups (64 codes), so more than
    // 8.5 / 32 (q8) and 4.5 / 32 (q4) of the F32 bytes: 68 / 192 and 36 / 192 for those rows.
    ['q8', 'F32', 0.36, 0.02],
    ['q8', 'BF16', 0.36, 0.02],
    ['q4', 'F32', 0.19, 0.2],
  ] as const)(
    'quantize %s from %s: GPU bytes < %s of F32, logits near the full model',
    async (q, dtype, ratio, tol) => {
      const full = build(await load('F32'));
      const files = await load(dtype, { keep: 'gpu', quantize: q });
      expect(files.tensors.get('model.layers.0.mlp.down_proj.weight')!.packed?.format).toBe(q);
      expect(f32Values(files.tensors.get('model.norm.weight')!).length).toBe(48); // vectors stay f32
      const r = build(files);
      expect(r.weights.embed[0].format).toBe(q);
      expect(r.weights.bytes / full.weights.bytes).toBeLessThan(ratio);
      const ref = await logits(full);
      const d = maxDiff(await logits(r), ref);
      expect(d).toBeGreaterThan(0); // it did quantize
      expect(d).toBeLessThan(tol); // logits here reach about 0.46
      full.destroy();
      r.destroy();
    },
  );

  it('q4 weights split into parts give the same logits as unsplit', async () => {
    const files = await load('BF16', { keep: 'gpu', quantize: 'q4' });
    // 2 KiB bindings: the [512, 48] q4 embedding is 2 groups (36 B) a row: 56 rows a part.
    const limited = { ...gpu, limits: { ...gpu.limits, maxStorageBufferBindingSize: 2048 } };
    const split = build(files, limited);
    const whole = build(files);
    expect(split.weights.embed.map((p) => p.rows).slice(0, 2)).toEqual([56, 56]);
    expect(split.weights.embed).toHaveLength(10);
    expect(whole.weights.embed).toHaveLength(1);
    for (const n of [1, 3, rows.length]) {
      expect(Array.from(await logits(split, n))).toEqual(Array.from(await logits(whole, n)));
    }
    split.destroy();
    whole.destroy();
  });

  it.each([undefined, 'q4'] as const)(
    'uploaded while streaming (quantize %s): same weights, nothing left on the host',
    async (q) => {
      const prep: WeightPrep = { keep: 'gpu', quantize: q };
      const later = await load('BF16', prep);
      const early = await loadModelFiles(join(tmp, 'BF16'), {
        prep,
        onTensor: uploadWhileStreaming(gpu.device, gpu.limits.maxStorageBufferBindingSize),
      });
      for (const t of early.tensors.values()) {
        if (t.shape.length === 2)
          expect([t.data, t.packed, t.gpu?.parts.length]).toEqual([undefined, undefined, 1]);
      }
      expect(early.hostBytes).toBe(later.hostBytes);
      const [a, b] = [build(later), build(early)];
      expect(b.weights.bytes).toBe(a.weights.bytes);
      expect(Array.from(await logits(b))).toEqual(Array.from(await logits(a)));
      a.destroy();
      b.destroy();
    },
  );

  it('the fingerprint tells quantized models apart', async () => {
    const fps = [
      (await load('F32')).fingerprint,
      (await load('F32', { keep: 'gpu', quantize: 'q8' })).fingerprint,
      (await load('F32', { keep: 'gpu', quantize: 'q4' })).fingerprint,
    ];
    expect(new Set(fps).size).toBe(3);
    expect((await load('F32', { keep: 'gpu', quantize: 'q4' })).fingerprint).toBe(fps[2]);
  });
});
