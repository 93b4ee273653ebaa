import { sampleToken } from '../engine/sampler.ts';
import { InvalidArgumentError } from '../errors.ts';
import { createNodeTokenEngine } from '../node/index.ts';
import { mulberry32 } from '../util/prng.ts';
import { type CliArgs, kvDtypeArg, num, quantizeArg, str } from './args.ts';
import { formatProfile, profileModel } from './profile.ts';

/** Prefill and decode throughput on random prompt tokens (after one warm-up run that compiles pipelines). */
export async function runBench(args: CliArgs): Promise<number> {
  const promptTokens = num(args, 'prompt-tokens', 128);
  const newTokens = num(args, 'new-tokens', 32);
  if (promptTokens < 1 || newTokens < 1)
    throw new InvalidArgumentError('--prompt-tokens and --new-tokens must be >= 1');
  const engine = createNodeTokenEngine();
  const quantize = quantizeArg(args);
  const info = await engine.load(str(args, 'model'), {
    contextLength: promptTokens + newTokens + 1,
    quantize,
    kvDtype: kvDtypeArg(args),
  });
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
  await engine.unload();
  const profile = args.profile
    ? (await profileModel(str(args, 'model'), tokenIds, quantize, info.kvDtype)).steps
    : undefined;
  const row = {
    model: info.location,
    quantize: quantize ?? 'none',
    kvDtype: info.kvDtype,
    adapter: info.adapter,
    promptTokens,
    newTokens: r.stats.newTokens,
    prefillMs: round(r.stats.prefillMs),
    prefillTokensPerSec: round(r.stats.prefillTokensPerSec),
    decodeTokensPerSec: round(r.stats.decodeTokensPerSec),
    weightBytes: info.weightBytes,
    samplingMs: round(samplingMs(info.config.vocabSize)),
    ...(profile ? { profile } : {}),
  };
  if (args.json) console.log(JSON.stringify(row));
  else {
    console.log(`model    ${row.model}\nadapter  ${row.adapter}`);
    console.log(`prefill  ${row.prefillTokensPerSec} tok/s  (${promptTokens} tokens in ${row.prefillMs} ms)`);
    console.log(`decode   ${row.decodeTokensPerSec} tok/s  (${row.newTokens} tokens)`);
    const share = (row.samplingMs * row.decodeTokensPerSec) / 10;
    console.log(
      `sampling ${row.samplingMs} ms per token at T 0.7, top-p 0.9 (${share.toFixed(1)}% of a decode step)`,
    );
    console.log(`weights  ${(row.weightBytes / 2 ** 20).toFixed(1)} MiB on the GPU`);
    for (const p of profile ?? []) console.log(`\n${formatProfile(p)}`);
  }
  return 0;
}

/** Median time of one sampleToken (temperature 0.7, top-p 0.9) over `vocab` bell-shaped logits. */
function samplingMs(vocab: number): number {
  const rand = mulberry32(99);
  const logits = new Float32Array(vocab).map(() => 3 * (rand() + rand() + rand() + rand() - 2));
  const times: number[] = [];
  for (let i = 0; i < 21; i++) {
    const t = performance.now();
    sampleToken(logits, { temperature: 0.7, topP: 0.9 }, rand);
    times.push(performance.now() - t);
  }
  return times.sort((a, b) => a - b)[10];
}

function round(x: number): number {
  return Math.round(x * 100) / 100;
}
