import { AbortError } from '../errors.ts';
import type { ForwardResult, LlamaRunner, Row } from '../llama/runner.ts';
import type { Tokenizer } from '../model/tokenizer/tokenizer.ts';
import { mulberry32 } from '../util/prng.ts';
import { IncrementalDecoder } from './detokenize.ts';
import { GreedyChain } from './greedy-chain.ts';
import { checkStep } from './output-guard.ts';
import { sampleToken } from './sampler.ts';
import type { FinishReason, GenerateChunk, GenerateOptions, GenerateResult } from './types.ts';

/** How the prompt gets into the KV cache: a full prefill, or reuse (see prefill.ts). */
export type Prefill = (readLogits: boolean) => Promise<{ first: ForwardResult; stale: number[] }>;

export type GenerationOutput = Omit<GenerateResult, 'reuse'>;

/**
 * Fill the cache for the prompt (positions 0..N-1), then decode one token per forward step. While
 * decoding, each step also recomputes up to `trickle` stale reused prompt rows.
 */
export async function runGeneration(
  runner: LlamaRunner,
  tokenizer: Tokenizer,
  promptIds: number[],
  opts: GenerateOptions,
  prefill: Prefill,
  trickle: number,
  onChunk?: (c: GenerateChunk) => void,
): Promise<GenerationOutput> {
  const t0 = performance.now();
  const maxNew = opts.maxNewTokens ?? 128;
  const greedy = (opts.temperature ?? 0) === 0;
  const rand = mulberry32(opts.seed ?? 0x5eed);
  // The tokenizer's stop ids: config.json's eos, generation_config.json's (Llama 3 instruct lists
  // <|eot_id|> only there) and tokenizer_config's eos token.
  const stopIds = new Set([...(opts.ignoreEos ? [] : tokenizer.eosTokenIds), ...(opts.stopTokenIds ?? [])]);
  const stops = (opts.stop ?? []).filter((s) => s.length > 0);
  const pick = (ids: Uint32Array, logits: Float32Array | null) => {
    checkStep(ids[0], logits, runner.cfg.vocabSize); // the output guard (output-guard.ts)
    return greedy ? ids[0] : sampleToken(logits!, opts, rand);
  };

  const checkAbort = () => {
    if (opts.signal?.aborted) throw new AbortError();
  };
  checkAbort();
  const out: number[] = [];
  let text = '';
  let finishReason: FinishReason = 'length';
  let stopStringHit = false;
  const detok = new IncrementalDecoder(tokenizer);
  const { first, stale } = await prefill(!greedy);
  const prefillMs = performance.now() - t0;
  const ttftMs = prefillMs;
  let next = pick(first.ids, first.logits);
  const tDecode = performance.now();
  const trickleRows = (): Row[] =>
    stale.splice(0, trickle).map((p) => ({ token: promptIds[p], position: p }));
  // Greedy steps run one ahead on the GPU (ids read back one step behind); sampling needs the logits.
  const chain = greedy
    ? new GreedyChain(runner, {
        firstToken: next,
        start: promptIds.length,
        steps: maxNew - 1,
        extraRows: trickleRows,
      })
    : null;
  try {
    while (out.length < maxNew) {
      if (stopIds.has(next)) {
        finishReason = 'stop';
        break;
      }
      out.push(next);
      const full = text + detok.push(out);
      const hit = stops.map((s) => full.indexOf(s, Math.max(0, text.length - s.length))).find((i) => i >= 0);
      const visible = hit === undefined ? full : full.slice(0, hit);
      const delta = visible.slice(text.length);
      text = visible;
      onChunk?.({ text: delta, tokenId: next });
      if (hit !== undefined) {
        finishReason = 'stop';
        stopStringHit = true;
        break;
      }
      if (out.length >= maxNew) break;
      if (opts.signal?.aborted) {
        finishReason = 'abort';
        break;
      }
      if (chain) next = pick(Uint32Array.of(await chain.next()), null);
      else {
        const rows = trickleRows();
        rows.push({ token: next, position: promptIds.length + out.length - 1 });
        const step = await runner.forward(rows, { readLogits: true, logitRows: [rows.length - 1] });
        next = pick(step.ids, step.logits);
      }
    }
  } finally {
    await chain?.drain();
  }
  const decodeMs = performance.now() - tDecode;
  if (!stopStringHit) text = tokenizer.decode(out, { skipSpecialTokens: true });
  const decoded = Math.max(0, out.length - 1);
  return {
    text,
    tokenIds: out,
    promptTokenIds: promptIds,
    finishReason,
    stats: {
      promptTokens: promptIds.length,
      newTokens: out.length,
      prefillMs,
      ttftMs,
      decodeMs,
      prefillTokensPerSec: promptIds.length / (prefillMs / 1000),
      decodeTokensPerSec: decoded > 0 ? decoded / (decodeMs / 1000) : 0,
    },
  };
}
