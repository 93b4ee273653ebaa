/** The public vocabulary of KV reuse: modes, per-request options, and what became of each prompt token. */

/** none: full prefill; prefix: exact-prefix reuse (lossless); naive: reuse every match; kvshare: reuse + selective recompute. */
export type ReuseMode = 'none' | 'prefix' | 'naive' | 'kvshare';

/** How reused rows are ranked for recompute (src/kvshare/select.ts). */
export type SelectorName = 'paper' | 'dv' | 'dkv';

/** One per-row signal of kvshare's scoring pass, which the selectors read (src/kvshare/select.ts). */
export type ScoreSignal = 'paper' | 'dv' | 'dk';

export interface ReuseOptions {
  mode?: ReuseMode;
  /** kvshare: fraction of reused tokens recomputed by deviation score (default 0.15). */
  recomputeRatio?: number;
  /** kvshare: stale reused tokens recomputed per decode step (default 3). */
  trickle?: number;
  /**
   * Retrieval gate: least estimated share of the prompt's n-grams an entry must hold for its fragments
   * to be aligned (default 0.25), unless the prompt holds at least half of the entry's (a quoted document
   * chunk). An entry below both can still give its exact common prefix (lossless).
   */
  minSimilarity?: number;
  /** Retrieval gate: shortest reused fragment in tokens (default 4; the exact common prefix is exempt). */
  minFragment?: number;
  /** Entries a plan may stitch from (default 8: k document chunks in one prompt; prefix mode uses one). */
  maxSources?: number;
  /** kvshare: how reused rows are ranked for recompute (default 'dkv'). */
  select?: SelectorName;
}

/** Per prompt token: its K/V came from the cache ('reused'), was recomputed by selection, or had no source ('new'). */
export type TokenFate = 'reused' | 'recomputed' | 'new';

/** How a prompt was filled: full prefill, exact prefix, naive reuse, or reuse with scored recompute. */
export type PrefillPath = 'full' | 'prefix' | 'naive' | 'scored';
