/**
 * What a prefill path costs before the first token, from the model's shape and this device's measured
 * rates, so the engine takes the cheaper of reusing and computing from scratch (and can say how long
 * a full prefill would have taken).
 */

import type { PrefillPath } from '../api/reuse-options.ts';
import { InternalError } from '../errors.ts';
import type { ModelConfig } from '../model/types.ts';

export type { PrefillPath } from '../api/reuse-options.ts';

export interface PathCost {
  path: PrefillPath;
  /** Estimated milliseconds to the first token. */
  ms: number;
}

/** Work of a path, in rows: patched, scored (layer 0 + layer-1 Q/K/V), computed whole, continued. */
export interface PathWork {
  patched: number;
  scored: number;
  computed: number;
  /** Rows finished after the scoring pass, from layer 1's attention on (its Q/K/V came from the pass). */
  continued: number;
}

/**
 * The scoring pass's fixed cost (a second pass, the probe's attention, a read-back of the scores),
 * in rows: scoring a handful of rows is not worth it.
 */
const SCORING_OVERHEAD_ROWS = 4;
/** A patch pass's fixed cost (a submit and a wait for the queue), in rows. */
const PATCH_OVERHEAD_ROWS = 1;

/**
 * Cost shares of one row's forward pass, from matmul FLOPs (attention and norms are small): one
 * layer, one layer's Q/K/V, and patching the row (its K and V values moved, against the weights read).
 */
export function rowShares(c: ModelConfig): { layer: number; qkv: number; patch: number } {
  const qDim = c.numHeads * c.headDim;
  const kvDim = c.numKvHeads * c.headDim;
  const qkv = c.hiddenSize * (qDim + 2 * kvDim);
  const layer = qkv + qDim * c.hiddenSize + 3 * c.hiddenSize * c.intermediateSize;
  const row = c.numLayers * layer;
  return { layer: layer / row, qkv: qkv / row, patch: (2 * c.numLayers * kvDim) / row };
}

/**
 * Estimates from the model's shape and the device's measured rate: milliseconds per fully computed
 * row (an exponential moving average over timed passes). Every other cost is a share of a row from
 * the shape, so the choice of path depends on ratios only; until a pass has been timed a row is
 * assumed to take 1 ms.
 */
export class CostModel {
  private rowMs: number | null = null;
  private readonly shares: { layer: number; qkv: number; patch: number };

  constructor(cfg: ModelConfig) {
    this.shares = rowShares(cfg);
  }

  /** Whether a full prefill has been timed on this device. */
  get measured(): boolean {
    return this.rowMs !== null;
  }

  /** A forward pass of `rows` whole rows took `ms` (only passes of 8 rows or more are learnt from). */
  observeRows(rows: number, ms: number): void {
    if (rows < 8 || !(ms > 0)) return;
    this.rowMs = ema(this.rowMs, ms / rows);
  }

  /** Estimated milliseconds of `w`. */
  ms(w: PathWork): number {
    const row = this.rowMs ?? 1;
    const { layer, qkv, patch } = this.shares;
    const patching = w.patched > 0 ? PATCH_OVERHEAD_ROWS + w.patched * patch : 0;
    const scoring = w.scored > 0 ? SCORING_OVERHEAD_ROWS + w.scored * (layer + qkv) : 0;
    return row * (patching + w.computed + scoring + w.continued * (1 - layer - qkv));
  }

  /** The cheapest of `options` (earlier options win ties). */
  choose(options: { path: PrefillPath; work: PathWork }[]): PathCost {
    let best: PathCost | null = null;
    for (const o of options) {
      const ms = this.ms(o.work);
      if (!best || ms < best.ms) best = { path: o.path, ms };
    }
    if (!best) throw new InternalError('internal error: no prefill path to choose from');
    return best;
  }
}

function ema(old: number | null, x: number): number {
  return old === null ? x : 0.7 * old + 0.3 * x;
}
