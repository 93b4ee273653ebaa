/**
 * The output guard: NaN or ±Inf reaching the logits (poisoned K/V of a reused entry, or an overflow)
 * shows as non-finite logits, or as the argmax kernel's sentinel (shaders/argmax.wgsl writes
 * 0xFFFFFFFF for an all-NaN or all −inf row). Either is caught at the step that produced it, before the
 * id is fed back. A request that reused entries drops them and is computed again from scratch; one
 * that reused nothing fails with NonFiniteOutputError.
 */
import type { EngineWarning } from '../api/types.ts';
import { NonFiniteOutputError } from '../errors.ts';
import type { EntryCache } from '../kvshare/entry-cache.ts';

/** What argmax.wgsl writes when no logit of a row compares greater than −inf. */
export const ARGMAX_NONE = 0xffffffff;

/** Throws NonFiniteOutputError unless `id` is a token of the vocabulary and `logits` [V] (if read) are finite. */
export function checkStep(id: number, logits: Float32Array | null, vocabSize: number): void {
  if (!(id < vocabSize)) {
    const what = id === ARGMAX_NONE ? 'the argmax found no finite logit' : `argmax gave id ${id}`;
    throw new NonFiniteOutputError(`The model produced non-finite logits (${what}).`);
  }
  if (!logits) return;
  for (let i = 0; i < logits.length; i++) {
    if (!Number.isFinite(logits[i])) {
      throw new NonFiniteOutputError(`The model produced a non-finite logit ${logits[i]} for token ${i}.`);
    }
  }
}

export interface GuardHooks {
  /** Ids of the cache entries the failed attempt reused (empty: nothing reused). */
  reused(): string[];
  /** Whether the request may start over (nothing was streamed to the caller yet). */
  canRestart(): boolean;
  /** Delete the entries and warn (kind 'corrupt'). */
  drop(ids: string[]): Promise<void>;
}

/**
 * run(false) normally; on NonFiniteOutputError after reuse, the reused entries are dropped and the
 * request runs again as run(true) (reuse off: the same answer as mode 'none'). If chunks were already
 * streamed it cannot start over and fails with NonFiniteOutputError (the entries are dropped all the same).
 */
export async function withOutputGuard<T>(
  run: (noReuse: boolean) => Promise<T>,
  hooks: GuardHooks,
): Promise<T> {
  try {
    return await run(false);
  } catch (e) {
    if (!(e instanceof NonFiniteOutputError)) throw e;
    const ids = hooks.reused();
    if (ids.length === 0) throw e;
    await hooks.drop(ids);
    if (!hooks.canRestart()) {
      throw new NonFiniteOutputError(
        `${e.message} The reused cache entries ${ids.join(', ')} were dropped; the answer had started streaming, so ask again.`,
      );
    }
    return run(true);
  }
}

/** Delete entries that led to non-finite output and say so (an EngineWarning of kind 'corrupt' each). */
export async function dropEntries(
  cache: EntryCache,
  ids: string[],
  onWarning?: (w: EngineWarning) => void,
): Promise<void> {
  for (const id of ids) {
    await cache.delete(id);
    const message = `KV cache entry ${id} led to non-finite logits: it was deleted and the request computed from scratch`;
    try {
      onWarning?.({ kind: 'corrupt', id, message });
    } catch {
      // a listener's failure must not fail the request
    }
  }
}
