import {
  bleu,
  exactAgreement,
  firstTokenAgreement,
  klDivergence,
  rougeL,
  words,
} from '../kvshare/metrics.ts';
import { cachedPrompts, type PromptPair } from '../kvshare/pairs.ts';
import type { SelectorName } from '../kvshare/select.ts';
import type { Engine } from './engine.ts';
import { DEFAULT_REUSE, type ReuseMode, type ReuseOptions } from './reuse.ts';

export interface EvalReuseOptions {
  modes: ReuseMode[];
  /** Selectors compared under mode kvshare (default: the engine's default selector only). */
  selectors?: SelectorName[];
  recomputeRatio?: number;
  maxNewTokens?: number;
  /** Extra reuse settings of every request (retrieval gate, seed). */
  reuse?: Omit<ReuseOptions, 'mode' | 'select' | 'recomputeRatio'>;
  onPair?: (index: number, total: number) => void;
}

export interface EvalPairRow {
  pair: number;
  mode: ReuseMode;
  /** The selector (kvshare rows), else ''. */
  select: SelectorName | '';
  promptTokens: number;
  reusedFraction: number;
  recomputedFraction: number;
  /** 1 when the whole answer equals full compute's. */
  identical: number;
  firstTokenAgreement: number;
  tokenAgreement: number;
  rougeL: number;
  bleu: number;
  /** KL(full ‖ mode) of the first token's distribution, nats. */
  firstTokenKl: number;
  ttftMs: number;
  noneTtftMs: number;
  ttftRatio: number;
}

export type EvalSummaryRow = Omit<EvalPairRow, 'pair' | 'promptTokens' | 'ttftMs' | 'noneTtftMs'> & {
  pairs: number;
};

export interface EvalReport {
  summary: EvalSummaryRow[];
  pairs: EvalPairRow[];
}

/**
 * For each pair and mode (kvshare: each selector): empty cache, cache every prompt of `a` (prefill only,
 * in order), answer `b` under the mode; compare with `b` answered by `none` from an empty cache. Greedy
 * decoding; answers are not cached.
 */
export async function evalReuse(
  engine: Engine,
  pairs: PromptPair[],
  o: EvalReuseOptions,
): Promise<EvalReport> {
  const maxNewTokens = o.maxNewTokens ?? 32;
  const runs = o.modes.flatMap((mode) =>
    mode === 'kvshare' && o.selectors?.length
      ? o.selectors.map((select) => ({ mode, select }))
      : [{ mode, select: undefined as SelectorName | undefined }],
  );
  const reuseOf = (mode: ReuseMode, select?: SelectorName): ReuseOptions => ({
    ...o.reuse,
    mode,
    select,
    recomputeRatio: o.recomputeRatio,
  });
  const ask = (prompt: string, mode: ReuseMode, select?: SelectorName) =>
    engine.generate(prompt, {
      maxNewTokens,
      temperature: 0,
      cachePrompt: false,
      reuse: reuseOf(mode, select),
    });
  const fill = async (p: PromptPair) => {
    await engine.cache.clear();
    for (const a of cachedPrompts(p)) await engine.cache.add(a);
  };
  // Warm-up: compile every pipeline (GEMM, GEMV, scoring) before anything is timed.
  if (pairs.length > 0) {
    await fill(pairs[0]);
    await ask(pairs[0].b, 'kvshare');
    await engine.cache.clear();
    await ask(pairs[0].b, 'none');
  }
  const rows: EvalPairRow[] = [];
  for (const [i, pair] of pairs.entries()) {
    o.onPair?.(i, pairs.length);
    await engine.cache.clear();
    const ref = await ask(pair.b, 'none');
    const refLogits = await engine.firstTokenLogits(pair.b, { mode: 'none' });
    const refWords = words(ref.text);
    for (const { mode, select } of runs) {
      await fill(pair);
      const r = await ask(pair.b, mode, select);
      await fill(pair);
      const logits = await engine.firstTokenLogits(pair.b, reuseOf(mode, select));
      const n = r.reuse.promptTokens;
      rows.push({
        pair: i,
        mode,
        select: mode === 'kvshare' ? (select ?? DEFAULT_REUSE.select) : '',
        promptTokens: n,
        reusedFraction: r.reuse.reusedTokens / n,
        recomputedFraction: r.reuse.recomputedTokens / n,
        identical: exactAgreement(r.tokenIds, ref.tokenIds) === 1 ? 1 : 0,
        firstTokenAgreement: firstTokenAgreement(r.tokenIds, ref.tokenIds),
        tokenAgreement: exactAgreement(r.tokenIds, ref.tokenIds),
        rougeL: rougeL(words(r.text), refWords),
        bleu: bleu(words(r.text), refWords),
        firstTokenKl: klDivergence(refLogits, logits),
        ttftMs: r.stats.ttftMs,
        noneTtftMs: ref.stats.ttftMs,
        ttftRatio: ref.stats.ttftMs / r.stats.ttftMs,
      });
    }
  }
  await engine.cache.clear();
  return { summary: summarize(rows), pairs: rows };
}

/** Mean of every measure per (mode, selector), in first-seen order. */
export function summarize(rows: EvalPairRow[]): EvalSummaryRow[] {
  const keys = [...new Set(rows.map((r) => `${r.mode}/${r.select}`))];
  return keys.map((key) => {
    const rs = rows.filter((r) => `${r.mode}/${r.select}` === key);
    const m = (f: (r: EvalPairRow) => number) => rs.reduce((s, r) => s + f(r), 0) / rs.length;
    return {
      mode: rs[0].mode,
      select: rs[0].select,
      pairs: rs.length,
      reusedFraction: m((r) => r.reusedFraction),
      recomputedFraction: m((r) => r.recomputedFraction),
      identical: m((r) => r.identical),
      firstTokenAgreement: m((r) => r.firstTokenAgreement),
      tokenAgreement: m((r) => r.tokenAgreement),
      rougeL: m((r) => r.rougeL),
      bleu: m((r) => r.bleu),
      firstTokenKl: m((r) => r.firstTokenKl),
      ttftRatio: m((r) => r.ttftRatio),
    };
  });
}
