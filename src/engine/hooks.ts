/**
 * Research seams of the Engine (`new Engine(platform, hooks)`): the library itself never sets them; the
 * reuse evaluation (src/eval, `kvshare eval-reuse`) and tests do, to compare selectors the product does
 * not ship and to read the first answer token's distribution.
 */
import type { ScoreSignal, ScoreSignals } from '../kvshare/select.ts';
import type { LlamaRunner } from '../llama/runner.ts';

/** Ranks kvshare's reused rows in place of the request's named selector. */
export interface RowSelector {
  /** What the report calls it ('random', 'oracle'). */
  readonly name: string;
  /** The scoring-pass signals `rank` reads. */
  readonly signals: readonly ScoreSignal[];
  /** Before the patch overwrites the live cache with reused rows (the oracle computes the prompt here). */
  beforePatch?(runner: LlamaRunner, ids: number[]): Promise<void>;
  /** The reused positions, most worth recomputing first; the live cache holds the patched prompt. */
  rank(reused: readonly number[], signals: ScoreSignals, runner: LlamaRunner): Promise<number[]>;
}

/** Set, cleared and swapped between requests by their owner; read at the start of each request. */
export interface EngineHooks {
  /** Replaces the named selector on kvshare's scored path. */
  selector?: RowSelector | null;
  /** Receives the first answer token's logits [V] of each request (they are read back for it). */
  onFirstLogits?: ((logits: Float32Array) => void) | null;
}
