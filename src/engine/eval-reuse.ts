import { bleu, exactAgreement, firstTokenAgreement, rougeL, words } from '../kvshare/metrics.ts';
import type { PromptPair } from '../kvshare/pairs.ts';
import { median } from '../util/median.ts';
import type { Engine } from './engine.ts';
import { type EvalChatOptions, evalPrompt } from './eval-chat.ts';
import type { ReuseMode } from './reuse.ts';

export interface EvalReuseOptions {
  modes: ReuseMode[];
  recomputeRatio?: number;
  maxNewTokens?: number;
  /** Timed runs per pair and mode (default 1); TTFT is the median over them. */
  reps?: number;
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
  /** Median over pairs of each pair's median TTFT (ms), this mode and the `none` reference. */
  ttftMs: number;
  noneTtftMs: number;
  /** Median over pairs of none/mode TTFT (the `none` row reads ~1: same runs, alternating order). */
  ttftRatio: number;
}

export interface EvalReport {
  summary: EvalSummaryRow[];
  pairs: EvalPairRow[];
}

/**
 * For each pair and mode: empty cache, cache `a` (prefill only), answer `b` under the mode; compare
 * with `b` answered by `none` from an empty cache. Greedy decoding; answers are not cached. Timing:
 * one warm-up, then `reps` rounds per pair in alternating order; TTFT figures are medians.
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
  const reps = o.reps ?? 1;
  const rows: EvalPairRow[] = [];
  for (const [i, { a, b }] of pairs.entries()) {
    o.onPair?.(i, pairs.length);
    // The reference and every mode run `reps` times in an order that alternates between rounds, so
    // no mode always runs right after a warm-up or right before a pause.
    const runs: (ReuseMode | 'ref')[] = ['ref', ...o.modes];
    const ttft = new Map<ReuseMode | 'ref', number[]>(runs.map((m) => [m, []]));
    const first = new Map<ReuseMode | 'ref', Awaited<ReturnType<typeof ask>>>();
    for (let rep = 0; rep < reps; rep++) {
      const order = (i * reps + rep) % 2 === 0 ? runs : [...runs].reverse();
      for (const mode of order) {
        await engine.cache.clear();
        if (mode !== 'ref') await engine.cache.add(evalPrompt(engine, a, o.chat));
        const r = await ask(b, mode === 'ref' ? 'none' : mode);
        ttft.get(mode)!.push(r.stats.ttftMs);
        if (!first.has(mode)) first.set(mode, r);
      }
    }
    const ref = first.get('ref')!;
    const refWords = words(ref.text);
    const noneTtftMs = median(ttft.get('ref')!);
    for (const mode of o.modes) {
      const r = first.get(mode)!;
      const n = r.reuse.promptTokens;
      const ttftMs = median(ttft.get(mode)!);
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
        ttftMs,
        noneTtftMs,
        ttftRatio: noneTtftMs / ttftMs,
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
      ttftMs: median(rs.map((r) => r.ttftMs)),
      noneTtftMs: median(rs.map((r) => r.noneTtftMs)),
      ttftRatio: median(rs.map((r) => r.ttftRatio)),
    };
  });
  return { summary, pairs: rows };
}
