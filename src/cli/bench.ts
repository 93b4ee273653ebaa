import { InvalidArgumentError } from '../errors.ts';
import { createNodeEngine } from '../node/index.ts';
import { mulberry32 } from '../util/prng.ts';
import { type CliArgs, num, str } from './args.ts';

/** Prefill and decode throughput on random prompt tokens (after one warm-up run that compiles pipelines). */
export async function runBench(args: CliArgs): Promise<number> {
  const promptTokens = num(args, 'prompt-tokens', 128);
  const newTokens = num(args, 'new-tokens', 32);
  if (promptTokens < 1 || newTokens < 1)
    throw new InvalidArgumentError('--prompt-tokens and --new-tokens must be >= 1');
  const engine = createNodeEngine();
  const info = await engine.load(str(args, 'model'), { contextLength: promptTokens + newTokens + 1 });
  const rand = mulberry32(1234);
  const vocab = Math.min(info.config.vocabSize, 32000);
  const eos = new Set(info.config.eosTokenIds);
  const tokenIds = Array.from({ length: promptTokens }, () => {
    let t: number;
    do t = 3 + Math.floor(rand() * (vocab - 3));
    while (eos.has(t));
    return t;
  });
  // Warm-up: compile every pipeline (GEMM and GEMV paths).
  // Plain prefill and decode: no KV reuse (the warm-up must not become a cache hit for the timed run).
  const plain = { reuse: { mode: 'none' as const }, cachePrompt: false };
  await engine.generate(
    { tokenIds: tokenIds.slice(0, Math.min(promptTokens, 8)) },
    { maxNewTokens: 2, ...plain },
  );
  const r = await engine.generate({ tokenIds }, { maxNewTokens: newTokens, ignoreEos: true, ...plain });
  const row = {
    model: info.location,
    adapter: info.adapter,
    promptTokens,
    newTokens: r.stats.newTokens,
    prefillMs: round(r.stats.prefillMs),
    prefillTokensPerSec: round(r.stats.prefillTokensPerSec),
    decodeTokensPerSec: round(r.stats.decodeTokensPerSec),
    weightBytes: info.weightBytes,
  };
  if (args.json) console.log(JSON.stringify(row));
  else {
    console.log(`model    ${row.model}\nadapter  ${row.adapter}`);
    console.log(`prefill  ${row.prefillTokensPerSec} tok/s  (${promptTokens} tokens in ${row.prefillMs} ms)`);
    console.log(`decode   ${row.decodeTokensPerSec} tok/s  (${row.newTokens} tokens)`);
    console.log(`weights  ${(row.weightBytes / 2 ** 20).toFixed(1)} MiB on the GPU`);
  }
  await engine.unload();
  return 0;
}

function round(x: number): number {
  return Math.round(x * 100) / 100;
}
