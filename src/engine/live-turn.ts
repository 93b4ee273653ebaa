/**
 * One request on the live KV cache: fill it for the prompt (reuse under the output guard), answer,
 * then record what the live cache holds for the next turn, write the prompt back as a cache entry and
 * promote the entries used from host memory to the GPU hot tier.
 */
import type { EngineWarning, EntryUserMeta } from '../api/types.ts';
import { AbortError, InternalError, InvalidArgumentError } from '../errors.ts';
import type { KVEntryMeta } from '../kvshare/entry.ts';
import type { EntryCache } from '../kvshare/entry-cache.ts';
import type { Tokenizer } from '../model/tokenizer/tokenizer.ts';
import { runGeneration } from './generate.ts';
import { dropEntries, withOutputGuard } from './output-guard.ts';
import { type PreparedPrompt, prefillWithReuse, type ReuseContext, type ReuseOptions } from './prefill.ts';
import type { GenerateChunk, GenerateOptions, GenerateResult, ModelInfo } from './types.ts';
import { promoteUsed, storePrompt } from './write-back.ts';

/** The loaded model as a turn sees it; `live` is rewritten by every turn. */
export interface TurnContext extends ReuseContext {
  entries: EntryCache;
  tokenizer: Tokenizer;
  info: ModelInfo;
  onWarning?: (w: EngineWarning) => void;
}

/** After a prefill of `tokens`: the rows of the live cache that equal a full computation. */
function keepLive(m: TurnContext, tokens: number[], p: PreparedPrompt): boolean {
  const exact = p.exact && p.stale.length === 0;
  m.live = { tokens, exactRows: exact ? tokens.length : p.exactRows };
  return exact;
}

/** Answer prompt `ids` (validated, within the context) under `reuse`; see generate(). */
export async function answerTurn(
  m: TurnContext,
  ids: number[],
  opts: GenerateOptions,
  reuse: Required<ReuseOptions>,
  onChunk?: (c: GenerateChunk) => void,
): Promise<GenerateResult> {
  let prepared: PreparedPrompt | null = null;
  const live = m.live;
  m.live = null; // the live cache is rewritten below; known again once the answer is complete
  let streamed = 0;
  let dropped = 0;
  const chunk =
    onChunk &&
    ((c: GenerateChunk) => {
      streamed++;
      onChunk(c);
    });
  const out = await withOutputGuard(
    (noReuse) => {
      const r = noReuse ? { ...reuse, mode: 'none' as const } : reuse;
      const onFirstLogits = m.hooks.onFirstLogits;
      const prefill = async (readLogits: boolean) => {
        prepared = await prefillWithReuse({ ...m, live: noReuse ? null : live }, ids, r, {
          readLogits: readLogits || !!onFirstLogits,
        });
        if (onFirstLogits && prepared.first.logits) onFirstLogits(prepared.first.logits);
        return prepared;
      };
      return runGeneration(
        m.runner,
        m.tokenizer,
        ids,
        opts,
        prefill,
        r.mode === 'kvshare' ? r.trickle : 0,
        chunk,
      );
    },
    {
      reused: () => (prepared as PreparedPrompt | null)?.stats.entryIds ?? [],
      canRestart: () => streamed === 0,
      drop: async (entryIds) => {
        dropped += entryIds.length;
        await dropEntries(m.entries, entryIds, m.onWarning);
      },
    },
  );
  const p = prepared as PreparedPrompt | null;
  if (!p) throw new InternalError('internal error: the prefill did not run');
  // Prompt and answer (all but the last token, whose K/V was never computed): a later turn of the
  // same chat starts with exactly these tokens.
  const fed = [...ids, ...out.tokenIds.slice(0, -1)];
  const exact = keepLive(m, fed, p);
  // An entry larger than the whole cache budget is not kept (storePrompt gives null); the answer stands.
  if (opts.cachePrompt ?? true) await storePrompt(m.entries, m.hot, m.runner, m.info, fed, exact);
  promoteUsed(m.entries, m.hot, p.fromHost);
  return { ...out, reuse: { ...p.stats, rejectedEntries: p.stats.rejectedEntries + dropped } };
}

/** Rows per prefill slice of cachePromptTurn: progress and abort between slices. */
const ADD_SLICE_ROWS = 256;

/**
 * Prefill `ids` in full (no reuse) and store them as an exact entry (`id`, else a random one), in slices
 * of ADD_SLICE_ROWS rows: `onRows(n)` after each, `signal` checked between them (AbortError, nothing stored).
 */
export async function cachePromptTurn(
  m: TurnContext,
  ids: number[],
  o: { id?: string; meta?: EntryUserMeta; onRows?: (n: number) => void; signal?: AbortSignal } = {},
): Promise<KVEntryMeta> {
  m.live = null;
  for (let start = 0; start < ids.length; start += ADD_SLICE_ROWS) {
    if (o.signal?.aborted) throw new AbortError();
    const slice = ids.slice(start, start + ADD_SLICE_ROWS);
    await m.runner.forward(
      slice.map((token, i) => ({ token, position: start + i })),
      { logitRows: [] },
    );
    m.live = { tokens: ids.slice(0, start + slice.length), exactRows: start + slice.length };
    o.onRows?.(slice.length);
  }
  if (o.signal?.aborted) throw new AbortError();
  const stored = await storePrompt(m.entries, m.hot, m.runner, m.info, ids, true, o.id, o.meta);
  if (!stored) {
    throw new InvalidArgumentError(
      `a prompt of ${ids.length} tokens needs more than the whole cache budget (${m.entries.stats().budgetBytes} bytes): not cached`,
    );
  }
  return stored;
}
