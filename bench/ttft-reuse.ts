// TTFT of each reuse mode vs full prefill on long prompts that share ~80% of their tokens.
// usage: node --import tsx bench/ttft-reuse.ts --model <dir> [--prompt-tokens 512] [--reusable 0.8] [--reps 1]
import { parseArgs } from 'node:util';
import { createNodeEngine } from '../src/node/index.ts';
import { mulberry32 } from '../src/util/prng.ts';

const { values } = parseArgs({
  options: {
    model: { type: 'string' },
    'prompt-tokens': { type: 'string', default: '512' },
    reusable: { type: 'string', default: '0.8' },
    reps: { type: 'string', default: '1' },
  },
});
if (!values.model) throw new Error('--model is required');
const N = Number(values['prompt-tokens']);
const keep = Number(values.reusable);
const reps = Number(values.reps);

const engine = createNodeEngine();
const info = await engine.load(values.model, { contextLength: N + 16 });
const rand = mulberry32(42);
const tok = () => 3 + Math.floor(rand() * (Math.min(info.config.vocabSize, 32000) - 3));
// A: N random tokens (BOS first). B: A with 5 spans rewritten so that about `keep` of B matches A.
const A = [1, ...Array.from({ length: N - 1 }, tok)];
const B = [...A];
const spans = 5;
const spanLen = Math.round(((1 - keep) * N) / spans);
for (let s = 0; s < spans; s++) {
  const start = Math.floor(((s + 0.5) * N) / spans) - Math.floor(spanLen / 2);
  for (let i = start; i < start + spanLen; i++) B[i] = tok();
}
console.log(
  `model ${info.location}\nadapter ${info.adapter}\nprompt ${N} tokens, ${spans} rewritten spans of ${spanLen}`,
);

// Warm-up: compile every pipeline (prefill, decode, scoring, patch) on a short prompt.
await engine.cache.add({ tokenIds: A.slice(0, 40) });
await engine.generate(
  { tokenIds: B.slice(0, 40) },
  { maxNewTokens: 2, reuse: { mode: 'kvshare' }, cachePrompt: false },
);

const modes = ['none', 'prefix', 'naive', 'kvshare'] as const;
const ttft: Record<string, number[]> = Object.fromEntries(modes.map((m) => [m, []]));
const reused: Record<string, number> = {};
for (let r = 0; r < reps; r++) {
  for (const mode of modes) {
    await engine.cache.clear();
    if (mode !== 'none') await engine.cache.add({ tokenIds: A });
    const res = await engine.generate(
      { tokenIds: B },
      { maxNewTokens: 1, reuse: { mode }, cachePrompt: false },
    );
    ttft[mode].push(res.stats.ttftMs);
    reused[mode] = res.reuse.reusedTokens / N;
    console.log(
      `${mode.padEnd(8)} ttft ${res.stats.ttftMs.toFixed(0).padStart(7)} ms  reused ${(100 * reused[mode]).toFixed(1)}%  ` +
        `(retrieval ${res.reuse.retrievalMs.toFixed(1)} ms, patch ${res.reuse.patchMs.toFixed(0)} ms, score ${res.reuse.scoreMs.toFixed(0)} ms)`,
    );
  }
}
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
for (const mode of modes) {
  console.log(`ttft ratio none/${mode}: ${(mean(ttft.none) / mean(ttft[mode])).toFixed(2)}`);
}
await engine.unload();
process.exit(0);
