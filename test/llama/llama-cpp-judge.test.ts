// llama.cpp as the judge: each architecture as a small random-weight model, written as safetensors
// and as GGUF (F32 and Q8_0), run by this engine and by llama.cpp (node-llama-cpp's CPU binary) on
// the same text. F32: perplexity within 2e-3 relative, max |Δlogit| <= 1e-3 × the logits' standard
// deviation, greedy 32 ids equal (or the first divergence a near-tie, top-2 within 1e-4).
// Two judged differently, where llama.cpp itself departs from the model:
// - Gemma: llama.cpp's CPU GELU reads an f16 table (ggml-cpu/vec.h, GGML_GELU_FP16), ~1e-3 σ off the
//   exact tanh GELU this engine (and transformers) computes. There, ours must match the float64
//   reference to 1e-4 σ, the reference with llama.cpp's f16 GELU must match llama.cpp to 1e-3 σ (the
//   gap is that table), and ours llama.cpp to 2e-3 σ.
// - Mistral's sliding window (48 here): llama.cpp converts Mistral as llama and ignores the window.
//   Its GGUF has none and is judged as usual; the safetensors model (windowed) must match the float64
//   reference everywhere and llama.cpp on the rows inside the window, and differ past it.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nodeShaderLibrary } from '../../src/gpu/shaders-node.ts';
import { LlamaRunner } from '../../src/llama/runner.ts';
import { loadModelFiles } from '../../src/model/load.ts';
import { ARCH_NAMES, type ArchModel, type ArchName, writeArchModel } from '../helpers/arch-models.ts';
import { testGpu } from '../helpers/gpu.ts';
import { CONTEXT, LlamaCppJudge } from '../helpers/llama-cpp.ts';
import { goldenPath } from '../helpers/models.ts';
import { ReferenceLlama } from '../reference/llama.ts';

const V = 512;
const TEXT_TOKENS = 160;
const PROMPT = 16;
const GREEDY = 32;
const text: string = JSON.parse(readFileSync(goldenPath(), 'utf8')).unconditional_greedy_from_bos.text;
const tmp = mkdtempSync(join(tmpdir(), 'kvshare-judge-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const models = {} as Record<ArchName, ArchModel>;
let ids: number[] = [];
beforeAll(async () => {
  for (const name of ARCH_NAMES) models[name] = await writeArchModel(name, tmp, ['F32', 'Q8_0']);
  const judge = await LlamaCppJudge.load(models.llama.gguf.F32!);
  ids = [1, ...judge.tokenize(text)].slice(0, TEXT_TOKENS); // BOS + the story
  await judge.dispose();
  expect(ids.length).toBe(TEXT_TOKENS);
}, 120_000);

/** Mean negative log-likelihood (float64) of ids[1..] under logits [n, V] of rows 0..n-2. */
function perplexity(logits: Float32Array, tokens: number[]): number {
  let nll = 0;
  for (let t = 1; t < tokens.length; t++) {
    const row = logits.subarray((t - 1) * V, t * V);
    let max = Number.NEGATIVE_INFINITY;
    for (const v of row) max = Math.max(max, v);
    let sum = 0;
    for (const v of row) sum += Math.exp(v - max);
    nll -= row[tokens[t]] - max - Math.log(sum);
  }
  return Math.exp(nll / (tokens.length - 1));
}

function std(x: Float32Array): number {
  let m = 0;
  for (const v of x) m += v;
  m /= x.length;
  let s = 0;
  for (const v of x) s += (v - m) ** 2;
  return Math.sqrt(s / x.length);
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

function meanAbsDiff(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m += Math.abs(a[i] - b[i]);
  return m / a.length;
}

/** The two largest values of a row. */
function top2(row: Float32Array): [number, number] {
  let [a, b] = [Number.NEGATIVE_INFINITY, Number.NEGATIVE_INFINITY];
  for (const v of row) {
    if (v > a) [a, b] = [v, a];
    else if (v > b) b = v;
  }
  return [a, b];
}

interface Ours {
  logits: Float32Array; // [n, V]
  greedy: number[];
}

async function runOurs(location: string): Promise<Ours> {
  const files = await loadModelFiles(location, { prep: { keep: 'gpu' } });
  const r = LlamaRunner.build(await testGpu(), nodeShaderLibrary(), files.config, files.tensors, {
    contextLength: CONTEXT,
    maxRows: 16,
    maxLogitRows: 16,
  });
  try {
    const rows = ids.map((token, position) => ({ token, position }));
    const logits = (await r.forward(rows, { readLogits: true, logitRows: rows.map((_, i) => i) })).logits!;
    const prompt = ids.slice(0, PROMPT);
    let out = await r.forward(prompt.map((token, position) => ({ token, position })));
    const greedy: number[] = [];
    for (let pos = PROMPT; greedy.length < GREEDY; pos++) {
      greedy.push(out.ids[0]);
      out = await r.forward([{ token: out.ids[0], position: pos }]);
    }
    return { logits, greedy };
  } finally {
    r.destroy();
  }
}

interface Judged {
  logits: Float32Array;
  greedy: { ids: number[]; logits: Float32Array };
}

const judged = new Map<string, Judged>();
async function runJudge(gguf: string): Promise<Judged> {
  let j = judged.get(gguf);
  if (!j) {
    const judge = await LlamaCppJudge.load(gguf);
    j = { logits: await judge.logits(ids, V), greedy: await judge.greedy(ids.slice(0, PROMPT), GREEDY, V) };
    await judge.dispose();
    judged.set(gguf, j);
  }
  return j;
}

/** Greedy ids equal, or equal up to a first divergence where llama.cpp's top-2 logits are within 1e-4. */
function greedyAgrees(ours: number[], theirs: Judged['greedy']): { equal: number; ok: boolean } {
  const first = ours.findIndex((t, i) => t !== theirs.ids[i]);
  if (first < 0) return { equal: ours.length, ok: true };
  const [a, b] = top2(theirs.logits.subarray(first * V, (first + 1) * V));
  return { equal: first, ok: a - b <= 1e-4 };
}

const cases: [ArchName, 'safetensors' | 'F32' | 'Q8_0'][] = ARCH_NAMES.flatMap((a) =>
  (['safetensors', 'F32', 'Q8_0'] as const).map((f): [ArchName, typeof f] => [a, f]),
);

describe('agreement with llama.cpp', () => {
  it.each(cases)('%s as %s', async (arch, format) => {
    const m = models[arch];
    // The judge always runs a GGUF: the F32 one for the safetensors folder (the same values).
    const judge = await runJudge(format === 'Q8_0' ? m.gguf.Q8_0! : m.gguf.F32!);
    const ours = await runOurs(format === 'safetensors' ? m.folder : m.gguf[format]!);
    const sd = std(judge.logits);
    const windowed = arch === 'mistral' && format === 'safetensors';
    const W = m.config.slidingWindow ?? 0;
    // the window: rows inside it against llama.cpp (the greedy run stays inside it too)
    const diff = windowed
      ? maxAbsDiff(ours.logits.subarray(0, W * V), judge.logits.subarray(0, W * V))
      : maxAbsDiff(ours.logits, judge.logits);
    let [pOurs, pJudge] = [perplexity(ours.logits, ids), perplexity(judge.logits, ids)];
    const g = greedyAgrees(ours.greedy, judge.greedy);
    let extra = '';
    if (format === 'Q8_0') {
      // llama.cpp's CPU Q8_0 product also rounds the activations to 8 bits (this engine keeps them
      // f32), so the two differ by more than the F32 files do. Both against llama.cpp's F32 logits
      // of the same weights: this engine must be no further from them than llama.cpp's own Q8_0.
      const exact = (await runJudge(m.gguf.F32!)).logits;
      const [mOurs, mJudge] = [meanAbsDiff(ours.logits, exact), meanAbsDiff(judge.logits, exact)];
      extra = ` | mean|Δ| to F32: ours ${mOurs.toExponential(2)}, llama.cpp ${mJudge.toExponential(2)}`;
      expect(mOurs).toBeLessThan(mJudge);
    }
    let tol = 1e-3;
    if (format !== 'Q8_0' && (m.config.gemma || windowed)) {
      const files = await loadModelFiles(m.folder);
      const rows = ids.map((token, position) => ({ token, position }));
      const exact = new ReferenceLlama(files.config, files.tensors, CONTEXT).forward(rows);
      const dRef = maxAbsDiff(ours.logits, exact) / sd;
      extra += ` | ours vs float64 reference ${dRef.toExponential(2)} σ`;
      expect(dRef).toBeLessThan(1e-4);
      if (windowed) {
        const past = maxAbsDiff(ours.logits.subarray(W * V), judge.logits.subarray(W * V)) / sd;
        extra += ` | rows 0..${W - 1} vs llama.cpp (no window); past the window ${past.toExponential(2)} σ apart`;
        expect(past).toBeGreaterThan(0.1);
      } else {
        const asLlamaCpp = new ReferenceLlama(files.config, files.tensors, CONTEXT, true).forward(rows);
        const dTable = maxAbsDiff(asLlamaCpp, judge.logits) / sd;
        extra += ` | reference with llama.cpp's f16 GELU vs llama.cpp ${dTable.toExponential(2)} σ`;
        expect(dTable).toBeLessThan(1e-3);
        tol = 2e-3;
      }
    }
    if (windowed)
      [pOurs, pJudge] = [perplexity(ours.logits, ids.slice(0, W)), perplexity(judge.logits, ids.slice(0, W))];
    console.log(
      `judge | ${arch} | ${format} | max|Δlogit| ${diff.toExponential(2)} (${(diff / sd).toExponential(2)} σ, σ ${sd.toFixed(3)}) | ppl ${pOurs.toFixed(5)} vs ${pJudge.toFixed(5)} (rel ${(Math.abs(pOurs - pJudge) / pJudge).toExponential(2)}) | greedy ${g.equal}/${GREEDY}${extra}`,
    );
    expect(sd).toBeGreaterThan(0.1); // the logits carry signal
    if (format === 'Q8_0') {
      expect(diff / sd).toBeLessThan(0.2);
      expect(Math.abs(pOurs - pJudge) / pJudge).toBeLessThan(5e-3);
    } else {
      expect(diff / sd).toBeLessThan(tol);
      expect(Math.abs(pOurs - pJudge) / pJudge).toBeLessThan(2e-3);
      expect(g.ok).toBe(true);
    }
  });
});
