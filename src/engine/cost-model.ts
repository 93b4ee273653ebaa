/**
 * What a prefill path costs before the first token, from the model's shape and this device's measured
 * rates, so the engine takes the cheaper of reusing and computing from scratch (and can say how long
 * a full prefill would have taken).
 */
import type { ModelConfig } from '../model/types.ts';

/** The ways to fill the live cache for a prompt. */
export type PrefillPath = 'full' | 'prefix' | 'naive' | 'scored';

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
  /** Rows finished from layer 1 on after the scoring pass. */
  continued: number;
}

/**
 * The scoring pass's fixed cost (a second pass, the probe's attention, a read-back of the scores),
 * in rows: scoring a handful of rows is not worth it.
 */
const SCORING_OVERHEAD_ROWS = 4;

/** Cost shares of one row's forward pass, from matmul FLOPs (attention and norms are small). */
export function rowShares(c: ModelConfig): { layer: number; qkv: number } {
  const qDim = c.numHeads * c.headDim;
  const kvDim = c.numKvHeads * c.headDim;
  const qkv = c.hiddenSize * (qDim + 2 * kvDim);
  const layer = qkv + qDim * c.hiddenSize + 3 * c.hiddenSize * c.intermediateSize;
  const row = c.numLayers * layer;
  return { layer: layer / row, qkv: qkv / row };
}

/**
 * Device rates learnt from the requests served: milliseconds per fully computed row and per patched
 * row (exponential moving averages). Until a full prefill has been timed, a row is assumed to take
 * 1 ms and a patched row 1% of that: the choice depends on ratios, the estimate improves with use.
 */
export class CostModel {
  private rowMs: number | null = null;
  private patchRowMs: number | null = null;
  private readonly shares: { layer: number; qkv: number };

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

  /** A patch of `rows` rows took `ms`. */
  observePatch(rows: number, ms: number): void {
    if (rows < 8 || !(ms >= 0)) return;
    this.patchRowMs = ema(this.patchRowMs, ms / rows);
  }

  /** Estimated milliseconds of `w`. */
  ms(w: PathWork): number {
    const row = this.rowMs ?? 1;
    const patch = this.patchRowMs ?? row / 100;
    const { layer, qkv } = this.shares;
    const scoring = w.scored > 0 ? SCORING_OVERHEAD_ROWS + w.scored * (layer + qkv) : 0;
    return w.patched * patch + row * (w.computed + scoring + w.continued * (1 - layer));
  }

  /** The cheapest of `options` (earlier options win ties). */
  choose(options: { path: PrefillPath; work: PathWork }[]): PathCost {
    let best: PathCost | null = null;
    for (const o of options) {
      const ms = this.ms(o.work);
      if (!best || ms < best.ms) best = { path: o.path, ms };
    }
    if (!best) throw new Error('internal error: no prefill path to choose from');
    return best;
  }
}

function ema(old: number | null, x: number): number {
  return old === null ? x : 0.7 * old + 0.3 * x;
}
