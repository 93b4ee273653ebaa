/**
 * What KV reuse did for one answer: a badge with the figures ("reused 12 · recomputed 3 · prompt 20
 * · TTFT 45 ms") and a map of the prompt's tokens coloured by fate — reused (K/V from the cache),
 * recomputed (reused position picked for recompute by deviation), new (no source, computed).
 */
import type { ChatCompletionUsage, FinishReason, TokenFate } from '../../src/client/index.ts';
import { el } from './dom.ts';

export const FATE_LABELS: Record<TokenFate, string> = {
  reused: 'reused from cache',
  recomputed: 'recomputed (deviated)',
  new: 'new (computed)',
};

export function reuseBadge(usage: ChatCompletionUsage, finish: FinishReason): HTMLElement {
  const parts = [
    `reused ${usage.reused_tokens}`,
    `recomputed ${usage.recomputed_tokens}`,
    `prompt ${usage.prompt_tokens}`,
    `TTFT ${Math.round(usage.time_to_first_token_ms)} ms`,
    `${usage.completion_tokens} new tokens`,
  ];
  if (finish === 'abort') parts.push('stopped');
  const badge = el('div', { class: 'reuse-badge', testid: 'reuse-badge', text: parts.join(' · ') });
  badge.dataset.reused = String(usage.reused_tokens);
  badge.dataset.recomputed = String(usage.recomputed_tokens);
  badge.dataset.prompt = String(usage.prompt_tokens);
  badge.dataset.completion = String(usage.completion_tokens);
  badge.dataset.ttftMs = String(Math.round(usage.time_to_first_token_ms));
  badge.dataset.finish = finish;
  if (usage.reused_tokens > 0) badge.classList.add('hit');
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
      attrs: { title: `token ${i} (id ${ids[i] ?? '?'}): ${FATE_LABELS[fate]}` },
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
    el('span', { class: 'legend-item' }, [
      el('span', { class: `swatch fate-${fate}`, attrs: { 'aria-hidden': 'true' } }),
      counts ? `${FATE_LABELS[fate]}: ${counts[fate]}` : FATE_LABELS[fate],
    ]),
  );
  return el('div', { class: 'legend', testid: 'reuse-legend' }, items);
}

function countFates(fates: TokenFate[]): Record<TokenFate, number> {
  const counts: Record<TokenFate, number> = { reused: 0, recomputed: 0, new: 0 };
  for (const f of fates) counts[f]++;
  return counts;
}
