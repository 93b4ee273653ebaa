/**
 * What KV reuse did for one answer: a badge with the figures ("reused 40 · recomputed 6 · new 3 ·
 * prompt 49 · TTFT 45 ms · ~5.1× faster than computing all 49 tokens") and a map of the prompt's
 * tokens coloured by fate, in the same words — reused (K/V from the cache), recomputed (had a cached
 * source, computed anyway), new (no source, computed).
 */
import type { ChatCompletionUsage, FinishReason, TokenFate } from '../../src/client/index.ts';
import { el } from './dom.ts';

export const FATE_LABELS: Record<TokenFate, string> = {
  reused: 'reused',
  recomputed: 'recomputed',
  new: 'new',
};

const FATE_HELP: Record<TokenFate, string> = {
  reused: 'K/V taken from the cache',
  recomputed: 'had a cached source, computed anyway',
  new: 'no cached source, computed',
};

/** How a reuse compared with computing every prompt token: only `faster` gets the success style. */
export type ReuseVerdict = 'faster' | 'same' | 'slower';

/**
 * The saving against the estimated time of computing every prompt token on this device, or null
 * when nothing was reused (or no estimate is known).
 */
export function saving(usage: ChatCompletionUsage): { verdict: ReuseVerdict; text: string } | null {
  const est = usage.estimated_full_prefill_ms;
  const ttft = usage.time_to_first_token_ms;
  if (usage.reused_tokens === 0 || !(est > 0) || !(ttft > 0)) return null;
  const all = `computing all ${usage.prompt_tokens} tokens`;
  const x = est / ttft;
  if (x >= 1.05) return { verdict: 'faster', text: `~${x.toFixed(1)}× faster than ${all}` };
  if (x > 1 / 1.05) return { verdict: 'same', text: `about as fast as ${all}` };
  return { verdict: 'slower', text: `~${(1 / x).toFixed(1)}× slower than ${all}` };
}

export function reuseBadge(usage: ChatCompletionUsage, finish: FinishReason): HTMLElement {
  const counts = countFates(usage.token_fates);
  const parts = [
    `${FATE_LABELS.reused} ${counts.reused}`,
    `${FATE_LABELS.recomputed} ${counts.recomputed}`,
    `${FATE_LABELS.new} ${counts.new}`,
    `prompt ${usage.prompt_tokens}`,
    `TTFT ${Math.round(usage.time_to_first_token_ms)} ms`,
  ];
  const outcome = saving(usage);
  if (outcome) parts.push(outcome.text);
  parts.push(`answer ${usage.completion_tokens} tokens`);
  if (finish === 'abort') parts.push('stopped');
  const badge = el('div', { class: 'reuse-badge', testid: 'reuse-badge', text: parts.join(' · ') });
  badge.dataset.reused = String(counts.reused);
  badge.dataset.recomputed = String(counts.recomputed);
  badge.dataset.new = String(counts.new);
  badge.dataset.prompt = String(usage.prompt_tokens);
  badge.dataset.completion = String(usage.completion_tokens);
  badge.dataset.ttftMs = String(Math.round(usage.time_to_first_token_ms));
  badge.dataset.estimatedFullMs = String(Math.round(usage.estimated_full_prefill_ms));
  badge.dataset.path = usage.prefill_path;
  badge.dataset.finish = finish;
  // The success style only for a reuse that paid off; a slower one is said plainly, in a warning style.
  if (outcome) badge.dataset.verdict = outcome.verdict;
  if (outcome?.verdict === 'faster') badge.classList.add('hit');
  if (outcome?.verdict === 'slower') badge.classList.add('slower');
  return badge;
}

/** How a token piece is shown: SentencePiece's '▁' as a space, line breaks as '↵'. */
export function showPiece(piece: string): string {
  return piece.replaceAll('▁', ' ').replaceAll('\n', '↵').replaceAll('\t', '⇥');
}

/** The prompt's tokens as spans (data-fate on each); `pieces[i]` is token i's text. */
export function reuseMap(pieces: string[], fates: TokenFate[], ids: number[]): HTMLElement {
  const tokens = el('div', { class: 'reuse-tokens' });
  for (const [i, fate] of fates.entries()) {
    const piece = pieces[i] ?? `#${ids[i] ?? '?'}`;
    const span = el('span', {
      class: `tok fate-${fate}`,
      text: showPiece(piece),
      attrs: { title: `token ${i} (id ${ids[i] ?? '?'}): ${FATE_LABELS[fate]}, ${FATE_HELP[fate]}` },
    });
    span.dataset.fate = fate;
    tokens.append(span);
  }
  const counts = countFates(fates);
  const map = el('details', { class: 'reuse-map', testid: 'reuse-map', attrs: { open: '' } }, [
    el('summary', { text: `Reuse map: ${fates.length} prompt tokens` }),
    tokens,
    legend(counts),
  ]);
  return map;
}

export function legend(counts?: Record<TokenFate, number>): HTMLElement {
  const items = (Object.keys(FATE_LABELS) as TokenFate[]).map((fate) =>
    el('span', { class: 'legend-item', attrs: { title: FATE_HELP[fate] } }, [
      el('span', { class: `swatch fate-${fate}`, attrs: { 'aria-hidden': 'true' } }),
      counts ? `${FATE_LABELS[fate]} ${counts[fate]}` : FATE_LABELS[fate],
    ]),
  );
  return el('div', { class: 'legend', testid: 'reuse-legend' }, items);
}

function countFates(fates: TokenFate[]): Record<TokenFate, number> {
  const counts: Record<TokenFate, number> = { reused: 0, recomputed: 0, new: 0 };
  for (const f of fates) counts[f]++;
  return counts;
}
