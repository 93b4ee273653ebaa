import type { Engine } from '../engine/engine.ts';
import type { EngineHooks } from '../engine/hooks.ts';
import { DEFAULT_REUSE, type ReuseMode, type ReuseOptions } from '../engine/prefill.ts';
import { InternalError } from '../errors.ts';
import { median } from '../util/median.ts';
import { type EvalChatOptions, evalPrompt } from './chat.ts';
import { bleu, exactAgreement, firstTokenAgreement, klDivergence, rougeL, words } from './metrics.ts';
import { cachedPrompts, type PromptPair } from './pairs.ts';
import { type EvalSelector, researchSelector } from './selectors.ts';

export interface EvalReuseOptions {
  modes: ReuseMode[];
  /** Selectors compared under mode kvshare (default: the engine's default selector only). */
  selectors?: EvalSelector[];
  recomputeRatio?: number;
  maxNewTokens?: number;
  /** Extra reuse settings of every request (retrieval gate). */
  reuse?: Omit<ReuseOptions, 'mode' | 'select' | 'recomputeRatio'>;
  /** Seed of the `random` selector (default 0). */
  seed?: number;
  /** Timed runs per pair and mode (default 1); TTFT is the median over them. */
  reps?: number;
  /** Wrap each text in the model's chat template with this system prompt (src/eval/chat.ts). */
  chat?: EvalChatOptions;
  onPair?: (index: number, total: number) => void;
}

export interface EvalPairRow {
  pair: number;
  mode: ReuseMode;
  /** The selector (kvshare rows), else ''. */
  select: EvalSelector | '';
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
  /** Median TTFT (ms) over the pair's timed runs, this mode and the `none` reference. */
  ttftMs: number;
  noneTtftMs: number;
  ttftRatio: number;
  /** 1 when the request reused cached rows on a path estimated at or above a full prefill (never expected). */
  estimatedSlower: number;
}

export type EvalSummaryRow = Omit<EvalPairRow, 'pair' | 'promptTokens'> & {
  pairs: number;
};

export interface EvalReport {
  summary: EvalSummaryRow[];
  pairs: EvalPairRow[];
}

type Run = { key: string; mode: ReuseMode; select?: EvalSelector };

/** The engine under evaluation and the research hooks it was made with (`new Engine(platform, hooks)`). */
export interface EvalEngine {
  engine: Engine;
  hooks: EngineHooks;
}

/**
 * For each pair and mode (kvshare: each selector): empty cache, cache every prompt of `a` (prefill only,
 * in order), answer `b` under the mode; compare with `b` answered by `none` from an empty cache. Greedy
 * decoding; answers are not cached. Timing: one warm-up, then `reps` rounds per pair in alternating
 * order; TTFT figures are medians. The `random` and `oracle` selectors and the first token's logits
 * (the KL column) go through `hooks`.
 */
export async function evalReuse(
  { engine, hooks }: EvalEngine,
  pairs: PromptPair[],
  o: EvalReuseOptions,
): Promise<EvalReport> {
  const maxNewTokens = o.maxNewTokens ?? 32;
  const runs = o.modes.flatMap((mode): Run[] =>
    mode === 'kvshare' && o.selectors?.length
      ? o.selectors.map((select) => ({ key: `${mode}/${select}`, mode, select }))
      : [{ key: mode, mode }],
  );
  const prompt = (text: string) => evalPrompt(engine, text, o.chat);
  /** Answer `text` under the mode and selector (a research selector through the hooks). */
  const generate = async (text: string, mode: ReuseMode, select: EvalSelector | undefined, max: number) => {
    const research = select ? researchSelector(select, o.seed) : null;
    hooks.selector = research;
    try {
      return await engine.generate(prompt(text), {
        maxNewTokens: max,
        temperature: 0,
        cachePrompt: false,
        reuse: {
          ...o.reuse,
          mode,
          select: select && !research ? (select as ReuseOptions['select']) : undefined,
          recomputeRatio: o.recomputeRatio,
        },
      });
    } finally {
      hooks.selector = null;
    }
  };
  const ask = (text: string, mode: ReuseMode, select?: EvalSelector) =>
    generate(text, mode, select, maxNewTokens);
  /** The first answer token's logits [V] after filling the live cache as `ask` does; nothing cached. */
  const firstTokenLogits = async (text: string, mode: ReuseMode, select?: EvalSelector) => {
    let logits: Float32Array | null = null;
    hooks.onFirstLogits = (l) => {
      logits = l;
    };
    try {
      await generate(text, mode, select, 1);
    } finally {
      hooks.onFirstLogits = null;
    }
    if (!logits) throw new InternalError('internal error: the engine did not report the first token logits');
    return logits as Float32Array;
  };
  const fill = async (p: PromptPair) => {
    await engine.cache.clear();
    for (const a of cachedPrompts(p)) await engine.cache.add(prompt(a));
  };
  // Warm-up: compile every pipeline (GEMM, GEMV, scoring) before anything is timed.
  if (pairs.length > 0) {
    await fill(pairs[0]);
    await ask(pairs[0].b, 'kvshare');
    await engine.cache.clear();
    await ask(pairs[0].b, 'none');
  }
  const reps = o.reps ?? 1;
  const rows: EvalPairRow[] = [];
  for (const [i, pair] of pairs.entries()) {
    o.onPair?.(i, pairs.length);
    // The reference and every run `reps` times in an order that alternates between rounds, so no
    // mode always runs right after a warm-up or right before a pause.
    const ref: Run = { key: 'ref', mode: 'none' };
    const all = [ref, ...runs];
    const ttft = new Map<string, number[]>(all.map((r) => [r.key, []]));
    const first = new Map<string, Awaited<ReturnType<typeof ask>>>();
    for (let rep = 0; rep < reps; rep++) {
      const order = (i * reps + rep) % 2 === 0 ? all : [...all].reverse();
      for (const run of order) {
        if (run === ref) await engine.cache.clear();
        else await fill(pair);
        const r = await ask(pair.b, run.mode, run.select);
        ttft.get(run.key)!.push(r.stats.ttftMs);
        if (!first.has(run.key)) first.set(run.key, r);
      }
    }
    await engine.cache.clear();
    const refAnswer = first.get('ref')!;
    const refLogits = await firstTokenLogits(pair.b, 'none');
    const refWords = words(refAnswer.text);
    const noneTtftMs = median(ttft.get('ref')!);
    for (const { key, mode, select } of runs) {
      const r = first.get(key)!;
      await fill(pair);
      const logits = await firstTokenLogits(pair.b, mode, select);
      const n = r.reuse.promptTokens;
      const ttftMs = median(ttft.get(key)!);
      rows.push({
        pair: i,
        mode,
        select: mode === 'kvshare' ? (select ?? DEFAULT_REUSE.select) : '',
        promptTokens: n,
        reusedFraction: r.reuse.reusedTokens / n,
        recomputedFraction: r.reuse.recomputedTokens / n,
        identical: exactAgreement(r.tokenIds, refAnswer.tokenIds) === 1 ? 1 : 0,
        firstTokenAgreement: firstTokenAgreement(r.tokenIds, refAnswer.tokenIds),
        tokenAgreement: exactAgreement(r.tokenIds, refAnswer.tokenIds),
        rougeL: rougeL(words(r.text), refWords),
        bleu: bleu(words(r.text), refWords),
        firstTokenKl: klDivergence(refLogits, logits),
        ttftMs,
        noneTtftMs,
        ttftRatio: noneTtftMs / ttftMs,
        estimatedSlower: r.reuse.path !== 'full' && r.reuse.estimatedMs >= r.reuse.estimatedFullMs ? 1 : 0,
      });
    }
  }
  await engine.cache.clear();
  return { summary: summarize(rows), pairs: rows };
}

/**
 * Per (mode, selector), in first-seen order: means of the fidelity measures, medians of the timings,
 * and the count of requests whose reuse was estimated slower than a full prefill.
 */
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
      ttftMs: median(rs.map((r) => r.ttftMs)),
      noneTtftMs: median(rs.map((r) => r.noneTtftMs)),
      ttftRatio: median(rs.map((r) => r.ttftRatio)),
      estimatedSlower: rs.reduce((s, r) => s + r.estimatedSlower, 0),
    };
  });
}
