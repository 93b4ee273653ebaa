// `kvshare perplexity` and the perplexity() it runs: against the CPU reference, and the quantize-on-load
// quality bar on stories260K (q8 within 1% of F32, q4 within 10%) on the golden story text, and the
// f16 KV cache's (within 0.1% of an f32 one) and the q8 KV cache's (within 1%).
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { perplexity } from '../../src/cli/perplexity.ts';
import { nodeShaderLibrary } from '../../src/gpu/shaders-node.ts';
import { LlamaRunner } from '../../src/llama/runner.ts';
import { loadModelFiles } from '../../src/model/load.ts';
import type { QuantizeOption } from '../../src/model/types.ts';
import type { KVDtype } from '../../src/util/kv-dtype.ts';
import { testGpu } from '../helpers/gpu.ts';
import { goldenPath, storiesDir } from '../helpers/models.ts';
import { ReferenceLlama } from '../reference/llama.ts';

const golden = JSON.parse(readFileSync(goldenPath(), 'utf8'));
const storyIds: number[] = golden.unconditional_greedy_from_bos.ids; // [256], BOS first

async function runner(quantize?: QuantizeOption, kvDtype?: KVDtype): Promise<LlamaRunner> {
  const files = await loadModelFiles(storiesDir(), { prep: { keep: 'gpu', quantize } });
  return LlamaRunner.build(await testGpu(), nodeShaderLibrary(), files.config, files.tensors, {
    contextLength: 256,
    maxRows: 16,
    maxLogitRows: 16,
    kvDtype,
  });
}

const ppl: Record<string, number> = {};
beforeAll(async () => {
  for (const q of [undefined, 'q8', 'q4'] as const) {
    const r = await runner(q);
    ppl[q ?? 'f32'] = (await perplexity(r, storyIds, 256)).perplexity;
    r.destroy();
  }
  for (const kv of ['f16', 'q8'] as const) {
    const r = await runner(undefined, kv);
    ppl[`kv_${kv}`] = (await perplexity(r, storyIds, 256)).perplexity;
    r.destroy();
  }
});

describe('perplexity', () => {
  it('matches the CPU reference, window by window', async () => {
    const ids = storyIds.slice(0, 41);
    const r = await runner();
    const got = await perplexity(r, ids, 20); // windows of 20 and 20 ids (a last lone id scores nothing)
    r.destroy();
    const files = await loadModelFiles(storiesDir());
    let sum = 0;
    for (const w0 of [0, 20]) {
      const win = ids.slice(w0, w0 + 20);
      const logits = new ReferenceLlama(files.config, files.tensors, 32).forward(
        win.map((token, position) => ({ token, position })),
      );
      const V = files.config.vocabSize;
      for (let i = 0; i + 1 < win.length; i++) {
        const row = Array.from(logits.subarray(i * V, (i + 1) * V));
        const max = Math.max(...row);
        sum += max + Math.log(row.reduce((a, v) => a + Math.exp(v - max), 0)) - row[win[i + 1]];
      }
    }
    expect(got.tokens).toBe(38);
    expect(got.windows).toBe(2);
    expect(got.nll).toBeCloseTo(sum / 38, 4);
  });

  it('q8 is within 1% of F32 and q4 within 10% on the golden story', () => {
    expect(ppl.f32).toBeGreaterThan(1);
    expect(ppl.q8 / ppl.f32).toBeLessThan(1.01);
    expect(ppl.q4 / ppl.f32).toBeLessThan(1.1);
    expect(ppl.q4).not.toBe(ppl.q8);
  });

  it('an f16 KV cache is within 0.1% of an f32 one on the golden story, a q8 one within 1%', () => {
    console.log(
      `golden story perplexity: f32 KV ${ppl.f32}, f16 KV ${ppl.kv_f16} (ratio ${ppl.kv_f16 / ppl.f32}), q8 KV ${ppl.kv_q8} (ratio ${ppl.kv_q8 / ppl.f32})`,
    );
    expect(ppl.kv_f16).not.toBe(ppl.f32); // the f16 cache did round
    expect(Math.abs(ppl.kv_f16 / ppl.f32 - 1)).toBeLessThan(0.001);
    expect(ppl.kv_q8).not.toBe(ppl.kv_f16);
    expect(Math.abs(ppl.kv_q8 / ppl.f32 - 1)).toBeLessThan(0.01);
  });

  it('q8 greedy text equals F32 for the first 32 tokens of "Once upon a time"', async () => {
    const r = await runner('q8');
    const prompt: number[] = golden.prompt_ids_with_bos;
    let out = await r.forward(prompt.map((token, position) => ({ token, position })));
    const ids: number[] = [];
    for (let pos = prompt.length; ids.length < 32; pos++) {
      ids.push(out.ids[0]);
      out = await r.forward([{ token: out.ids[0], position: pos }]);
    }
    r.destroy();
    expect(ids).toEqual(golden.greedy_64_after_prompt.ids.slice(0, 32));
  });

  it('kvshare perplexity --json prints the numbers; a bad --quantize is a typed error', () => {
    const bin = fileURLToPath(new URL('../../bin/kvshare.js', import.meta.url));
    const text = join(tmpdir(), `kvshare-ppl-${process.pid}.txt`);
    writeFileSync(text, golden.unconditional_greedy_from_bos.text);
    const run = (...a: string[]) =>
      spawnSync(process.execPath, [bin, 'perplexity', '--model', storiesDir(), '--text-file', text, ...a], {
        encoding: 'utf8',
        timeout: 120_000,
      });
    const r = run('--quantize', 'q8', '--json');
    expect(r.status).toBe(0);
    const row = JSON.parse(r.stdout);
    expect(row.quantize).toBe('q8');
    expect(row.kvDtype).toBe('f16'); // the default where headDim % 4 == 0 (stories260K: 8)
    expect(row.tokens).toBeGreaterThan(200);
    expect(row.perplexity).toBeCloseTo(Math.exp(row.nll), 10);
    const bad = run('--quantize', 'q5');
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/InvalidArgumentError: --quantize must be q4 or q8/);
    const badKv = run('--kv-dtype', 'f8');
    expect(badKv.status).toBe(1);
    expect(badKv.stderr).toMatch(/InvalidArgumentError: --kv-dtype must be f16, f32 or q8/);
  });
});
