import { readFileSync } from 'node:fs';
import { InternalError, InvalidArgumentError } from '../errors.ts';
import { acquireDevice } from '../gpu/device.ts';
import { nodeGPU } from '../gpu/node-gpu.ts';
import { nodeShaderLibrary } from '../gpu/shaders-node.ts';
import { loadRunner } from '../llama/load-runner.ts';
import type { LlamaRunner } from '../llama/runner.ts';
import { loadModelTokenizer } from '../model/tokenizer/model-tokenizer.ts';
import type { Tokenizer } from '../model/tokenizer/tokenizer.ts';
import type { QuantizeOption } from '../model/types.ts';
import { resolveKVDtype } from '../util/kv-dtype.ts';
import { type CliArgs, kvDtypeArg, num, quantizeArg, str } from './args.ts';

/** Rows per forward step, all of them with logits read back. */
const STEP = 16;

export interface PerplexityResult {
  /** Tokens whose probability was scored (every token but the first of each window). */
  tokens: number;
  windows: number;
  /** Mean negative log-likelihood in nats per scored token. */
  nll: number;
  perplexity: number;
}

/**
 * Perplexity of `ids` under the model: the ids are cut into windows of `context` tokens, each run
 * from an empty cache at positions 0.., and every token but a window's first is scored by the
 * log-softmax (float64) of the logits at the position before it.
 */
export async function perplexity(
  runner: LlamaRunner,
  ids: number[],
  context: number,
): Promise<PerplexityResult> {
  if (ids.length < 2) throw new InvalidArgumentError('the text must have at least 2 tokens');
  const V = runner.cfg.vocabSize;
  let sum = 0;
  let tokens = 0;
  let windows = 0;
  for (let w0 = 0; w0 < ids.length - 1; w0 += context) {
    const win = ids.slice(w0, w0 + context); // [n] ids at positions 0..n-1
    windows++;
    for (let s = 0; s < win.length - 1; s += STEP) {
      const rows = win
        .slice(s, Math.min(s + STEP, win.length - 1))
        .map((token, i) => ({ token, position: s + i }));
      const r = await runner.forward(rows, { logitRows: rows.map((_, i) => i), readLogits: true });
      const logits = r.logits!; // [rows, V]
      for (let i = 0; i < rows.length; i++) {
        const row = logits.subarray(i * V, (i + 1) * V);
        let max = -Infinity;
        for (const v of row) max = Math.max(max, v);
        let z = 0;
        for (const v of row) z += Math.exp(v - max);
        sum += max + Math.log(z) - row[win[s + i + 1]];
        tokens++;
      }
    }
  }
  const nll = sum / tokens;
  return { tokens, windows, nll, perplexity: Math.exp(nll) };
}

/** `kvshare perplexity`: mean NLL and perplexity of a text file under the model (optionally quantized). */
export async function runPerplexity(args: CliArgs): Promise<number> {
  const model = str(args, 'model');
  const text = readFileSync(str(args, 'text-file'), 'utf8');
  const quantize: QuantizeOption | undefined = quantizeArg(args);
  const gpu = await acquireDevice(await nodeGPU());
  console.error(`adapter: ${gpu.adapterName}`);
  let tokenizer: Tokenizer | undefined;
  let ids: number[] = [];
  let context = 0;
  const files = await loadRunner(gpu, nodeShaderLibrary(), model, {
    quantize,
    beforeWeights: async (config, from) => {
      tokenizer = await loadModelTokenizer(model, config, from);
      ids = tokenizer.encode(text);
      context = Math.min(
        num(args, 'context', Math.min(ids.length, config.maxPositions)),
        config.maxPositions,
      );
      if (!Number.isInteger(context) || context < 2)
        throw new InvalidArgumentError('--context must be a whole number >= 2');
    },
    runner: (config) => ({
      contextLength: context,
      maxRows: STEP,
      maxLogitRows: STEP,
      kvDtype: resolveKVDtype(kvDtypeArg(args), config.headDim),
    }),
  });
  if (!tokenizer) throw new InternalError('internal error: the tokenizer was not loaded');
  const runner: LlamaRunner = files.runner;
  try {
    const r = await perplexity(runner, ids, context);
    const row = {
      model: files.location,
      quantize: quantize ?? 'none',
      kvDtype: runner.cache.dtype,
      context,
      weightBytes: runner.weights.bytes,
      ...r,
    };
    if (args.json) console.log(JSON.stringify(row));
    else {
      console.log(`model       ${row.model} (quantize: ${row.quantize}, KV: ${row.kvDtype})`);
      console.log(`tokens      ${r.tokens} scored in ${r.windows} window(s) of ${context}`);
      console.log(`nll         ${r.nll.toFixed(6)} nats/token`);
      console.log(`perplexity  ${r.perplexity.toFixed(4)}`);
    }
  } finally {
    runner.destroy();
  }
  return 0;
}
