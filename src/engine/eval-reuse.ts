import { bleu, exactAgreement, firstTokenAgreement, rougeL, words } from '../kvshare/metrics.ts';
import type { PromptPair } from '../kvshare/pairs.ts';
import type { Engine } from './engine.ts';
import { type EvalChatOptions, evalPrompt } from './eval-chat.ts';
import type { ReuseMode } from './reuse.ts';

export interface EvalReuseOptions {
  modes: ReuseMode[];
  recomputeRatio?: number;
  maxNewTokens?: number;
  /** Wrap each text in the model's chat template with this system prompt (eval-chat.ts). */
  chat?: EvalChatOptions;
  onPair?: (index: number, total: number) => void;
}

export interface EvalPairRow {
  pair: number;
  mode: ReuseMode;
  promptTokens: number;
  reusedFraction: number;
  recomputedFraction: number;
  firstTokenAgreement: number;
  tokenAgreement: number;
  rougeL: number;
  bleu: number;
  ttftMs: number;
  noneTtftMs: number;
  ttftRatio: number;
}

export interface EvalSummaryRow {
  mode: ReuseMode;
  pairs: number;
  reusedFraction: number;
  recomputedFraction: number;
  firstTokenAgreement: number;
  tokenAgreement: number;
  rougeL: number;
  bleu: number;
  ttftRatio: number;
}

export interface EvalReport {
  summary: EvalSummaryRow[];
  pairs: EvalPairRow[];
}

/**
 * For each pair and mode: empty cache, cache `a` (prefill only), answer `b` under the mode; compare
 * with `b` answered by `none` from an empty cache. Greedy decoding; answers are not cached.
 */
export async function evalReuse(
  engine: Engine,
  pairs: PromptPair[],
  o: EvalReuseOptions,
): Promise<EvalReport> {
  const maxNewTokens = o.maxNewTokens ?? 32;
  const ask = (text: string, mode: ReuseMode) =>
    engine.generate(evalPrompt(engine, text, o.chat), {
      maxNewTokens,
      temperature: 0,
      cachePrompt: false,
      reuse: { mode, recomputeRatio: o.recomputeRatio },
    });
  // Warm-up: compile every pipeline (GEMM, GEMV, scoring) before anything is timed.
  if (pairs.length > 0) {
    await engine.cache.clear();
    await engine.cache.add(evalPrompt(engine, pairs[0].a, o.chat));
    await ask(pairs[0].b, 'kvshare');
    await ask(pairs[0].b, 'none');
  }
  const rows: EvalPairRow[] = [];
  for (const [i, { a, b }] of pairs.entries()) {
    o.onPair?.(i, pairs.length);
    await engine.cache.clear();
    const ref = await ask(b, 'none');
    const refWords = words(ref.text);
    for (const mode of o.modes) {
      await engine.cache.clear();
      await engine.cache.add(evalPrompt(engine, a, o.chat));
      const r = await ask(b, mode);
      const n = r.reuse.promptTokens;
      rows.push({
        pair: i,
        mode,
        promptTokens: n,
        reusedFraction: r.reuse.reusedTokens / n,
        recomputedFraction: r.reuse.recomputedTokens / n,
        firstTokenAgreement: firstTokenAgreement(r.tokenIds, ref.tokenIds),
        tokenAgreement: exactAgreement(r.tokenIds, ref.tokenIds),
        rougeL: rougeL(words(r.text), refWords),
        bleu: bleu(words(r.text), refWords),
        ttftMs: r.stats.ttftMs,
        noneTtftMs: ref.stats.ttftMs,
        ttftRatio: ref.stats.ttftMs / r.stats.ttftMs,
      });
    }
  }
  await engine.cache.clear();
  const mean = (xs: number[]) => (xs.length ? xs.reduce((s, x) => s + x, 0) / xs.length : 0);
  const summary = o.modes.map((mode) => {
    const rs = rows.filter((r) => r.mode === mode);
    const m = (f: (r: EvalPairRow) => number) => mean(rs.map(f));
    return {
      mode,
      pairs: rs.length,
      reusedFraction: m((r) => r.reusedFraction),
      recomputedFraction: m((r) => r.recomputedFraction),
      firstTokenAgreement: m((r) => r.firstTokenAgreement),
      tokenAgreement: m((r) => r.tokenAgreement),
      rougeL: m((r) => r.rougeL),
      bleu: m((r) => r.bleu),
      ttftRatio: m((r) => r.ttftRatio),
    };
  });
  return { summary, pairs: rows };
}
