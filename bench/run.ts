// npm run bench: prefill/decode throughput of stories260K and a synthetic SmolLM2-135M-shaped model,
// and a synthetic Qwen2.5-0.5B-shaped model in BF16 against the same quantized to q4 on load.
// Each model runs in its own `kvshare bench` process; numbers are printed, never asserted.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const assets = `${root}assets`;
const smol = `${root}tmp/synthetic-smollm2-135m`;
const qwen = `${root}tmp/synthetic-qwen2.5-0.5b`;
const cli = [`${root}bin/kvshare.js`];

function kvshare(args: string[]): string {
  return execFileSync(process.execPath, [...cli, ...args], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
}

if (!existsSync(`${smol}/config.json`)) {
  console.log(`writing ${smol} (random weights, SmolLM2-135M shapes, BF16) ...`);
  kvshare(['synth', '--shape', 'smollm2-135m', '--out', smol, '--dtype', 'BF16']);
}

if (!existsSync(`${qwen}/config.json`)) {
  console.log(`writing ${qwen} (random weights, Qwen2.5-0.5B shapes, BF16, ~1 GB) ...`);
  kvshare(['synth', '--shape', 'qwen2.5-0.5b', '--out', qwen, '--dtype', 'BF16']);
}

/** One `kvshare bench --json` row. */
function bench(model: string, promptTokens: number, newTokens: number, extra: string[] = []) {
  const out = kvshare([
    'bench',
    '--model',
    model,
    '--prompt-tokens',
    String(promptTokens),
    '--new-tokens',
    String(newTokens),
    '--json',
    ...extra,
  ]);
  return JSON.parse(out.trim().split('\n').pop()!);
}

const median = (v: number[]) => [...v].sort((a, b) => a - b)[v.length >> 1];

const runs = [
  { name: 'stories260K', model: `${assets}/stories260K-hf`, promptTokens: 256, newTokens: 128 },
  { name: 'smollm2-135m (synthetic)', model: smol, promptTokens: 128, newTokens: 16 },
];
console.log('model                      prompt  prefill tok/s  decode tok/s');
for (const r of runs) {
  const row = bench(r.model, r.promptTokens, r.newTokens);
  console.log(
    `${r.name.padEnd(26)} ${String(r.promptTokens).padStart(6)}  ${String(row.prefillTokensPerSec).padStart(13)}  ${String(row.decodeTokensPerSec).padStart(12)}   (${row.adapter})`,
  );
}

// BF16 and q4 alternate (2 rounds each, medians), so both see the same machine load.
console.log('\nqwen2.5-0.5b (synthetic), 16-token prompt, 8 new tokens: BF16 vs --quantize q4');
const rounds: Record<string, { prefill: number[]; decode: number[]; bytes: number }> = {};
for (let i = 0; i < 2; i++) {
  for (const q of ['none', 'q4']) {
    const row = bench(qwen, 16, 8, q === 'none' ? [] : ['--quantize', q]);
    rounds[q] ??= { prefill: [], decode: [], bytes: row.weightBytes };
    rounds[q].prefill.push(row.prefillTokensPerSec);
    rounds[q].decode.push(row.decodeTokensPerSec);
  }
}
console.log('format  GPU weight MB  prefill tok/s  decode tok/s');
for (const [q, r] of Object.entries(rounds)) {
  const name = q === 'none' ? 'bf16' : q;
  console.log(
    `${name.padEnd(6)}  ${(r.bytes / 1e6).toFixed(0).padStart(13)}  ${String(median(r.prefill)).padStart(13)}  ${String(median(r.decode)).padStart(12)}`,
  );
}
const [b, q] = [rounds.none, rounds.q4];
console.log(
  `q4 / bf16: weight bytes ${(q.bytes / b.bytes).toFixed(3)}, prefill ${(median(q.prefill) / median(b.prefill)).toFixed(2)}x, decode ${(median(q.decode) / median(b.decode)).toFixed(2)}x`,
);

console.log('\nTTFT with reuse: synthetic SmolLM2-135M, 512-token prompts, ~80% reusable');
execFileSync(
  process.execPath,
  ['--import', 'tsx', `${root}bench/ttft-reuse.ts`, '--model', smol, '--prompt-tokens', '512'],
  {
    stdio: 'inherit',
  },
);
