// npm run bench: prefill/decode throughput of stories260K and a synthetic SmolLM2-135M-shaped model.
// Each model runs in its own `kvshare bench` process; numbers are printed, never asserted.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const assets = process.env.KVSHARE_ASSETS ?? `${root}../shared/assets`;
const smol = `${root}tmp/synthetic-smollm2-135m`;
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

const runs = [
  { name: 'stories260K', model: `${assets}/stories260K-hf`, promptTokens: 256, newTokens: 128 },
  { name: 'smollm2-135m (synthetic)', model: smol, promptTokens: 128, newTokens: 16 },
];
console.log('model                      prompt  prefill tok/s  decode tok/s');
for (const r of runs) {
  const out = kvshare([
    'bench',
    '--model',
    r.model,
    '--prompt-tokens',
    String(r.promptTokens),
    '--new-tokens',
    String(r.newTokens),
    '--json',
  ]);
  const row = JSON.parse(out.trim().split('\n').pop()!);
  console.log(
    `${r.name.padEnd(26)} ${String(r.promptTokens).padStart(6)}  ${String(row.prefillTokensPerSec).padStart(13)}  ${String(row.decodeTokensPerSec).padStart(12)}   (${row.adapter})`,
  );
}

console.log('\nTTFT with reuse: synthetic SmolLM2-135M, 512-token prompts, ~80% reusable');
execFileSync(
  process.execPath,
  ['--import', 'tsx', `${root}bench/ttft-reuse.ts`, '--model', smol, '--prompt-tokens', '512'],
  {
    stdio: 'inherit',
  },
);
