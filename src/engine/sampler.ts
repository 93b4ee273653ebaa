import { InvalidArgumentError } from '../errors.ts';

export interface SamplingOptions {
  /** 0 = greedy (argmax on the GPU). Default 0. */
  temperature?: number;
  /** Keep only the k most likely tokens (0 = off). */
  topK?: number;
  /** Keep the smallest set of tokens whose probability reaches p (1 = off). */
  topP?: number;
  /** Seed of the sampling PRNG; the same seed gives the same tokens. */
  seed?: number;
}

export function validateSampling(o: SamplingOptions): void {
  const t = o.temperature ?? 0;
  if (!(t >= 0) || !Number.isFinite(t)) throw new InvalidArgumentError(`temperature must be >= 0 (got ${t})`);
  const k = o.topK ?? 0;
  if (!Number.isInteger(k) || k < 0)
    throw new InvalidArgumentError(`topK must be a whole number >= 0 (got ${k})`);
  const p = o.topP ?? 1;
  if (!(p > 0 && p <= 1)) throw new InvalidArgumentError(`topP must be in (0, 1] (got ${p})`);
}

/** True when token a ranks above token b: higher logit, then lower id. */
function above(l: Float32Array, a: number, b: number): boolean {
  return l[a] > l[b] || (l[a] === l[b] && a < b);
}

/**
 * Partition idx[lo, hi) around a median-of-three pivot by rank: afterwards idx[lo, p) rank above
 * idx[p] and idx(p, hi) below it. Returns p.
 */
function partition(idx: Uint32Array, lo: number, hi: number, l: Float32Array): number {
  const mid = (lo + hi) >>> 1;
  const [a, b, c] = [idx[lo], idx[mid], idx[hi - 1]];
  const m = above(l, a, b) === above(l, b, c) ? mid : above(l, a, b) === above(l, c, a) ? lo : hi - 1;
  const pivot = idx[m];
  idx[m] = idx[hi - 1];
  idx[hi - 1] = pivot;
  let p = lo;
  for (let j = lo; j < hi - 1; j++) {
    if (above(l, idx[j], pivot)) {
      const t = idx[j];
      idx[j] = idx[p];
      idx[p++] = t;
    }
  }
  idx[hi - 1] = idx[p];
  idx[p] = pivot;
  return p;
}

/** Reorder idx so that its first k entries are the k top-ranked tokens (in no particular order). */
function selectTop(idx: Uint32Array, k: number, l: Float32Array): void {
  let lo = 0;
  let hi = idx.length;
  while (hi - lo > 1) {
    const p = partition(idx, lo, hi, l);
    if (p === k || p === k - 1) return;
    if (p < k - 1) lo = p + 1;
    else hi = p;
  }
}

/**
 * The size of the smallest top-ranked prefix of idx whose weights reach `target`, with idx reordered
 * so that prefix comes first (all of idx when the total stays below it). Expected linear time.
 */
function selectNucleus(idx: Uint32Array, w: Float64Array, target: number, l: Float32Array): number {
  let lo = 0;
  let hi = idx.length;
  let acc = 0;
  while (lo < hi) {
    const p = partition(idx, lo, hi, l);
    let above = 0;
    for (let j = lo; j < p; j++) above += w[idx[j]];
    if (acc + above >= target) {
      hi = p;
      continue;
    }
    acc += above + w[idx[p]];
    if (acc >= target) return p + 1;
    lo = p + 1;
  }
  return lo;
}

/**
 * The tokens a draw may pick from logits [V] at temperature t > 0 after top-k, then top-p (nucleus)
 * filtering, with their unnormalised probabilities, in expected linear time (partial selection, no
 * sort). `ids` are in no particular order; `weights` is indexed by token id.
 */
export function samplingCandidates(
  logits: Float32Array, // [V]
  o: SamplingOptions,
): { ids: Uint32Array; weights: Float64Array; total: number } {
  const t = o.temperature ?? 0;
  if (!(t > 0)) throw new InvalidArgumentError(`samplingCandidates needs temperature > 0 (got ${t})`);
  const V = logits.length;
  let mx = logits[0];
  for (let i = 1; i < V; i++) if (logits[i] > mx) mx = logits[i];
  let ids = new Uint32Array(V); // [V] candidate token ids, top-ranked first once selected
  for (let i = 0; i < V; i++) ids[i] = i;
  const k = o.topK ?? 0;
  if (k > 0 && k < V) {
    selectTop(ids, k, logits);
    ids = ids.subarray(0, k);
  }
  const weights = new Float64Array(V); // [V] exp((logit - max) / t) of the candidates
  let total = 0;
  for (const i of ids) total += weights[i] = Math.exp((logits[i] - mx) / t);
  const p = o.topP ?? 1;
  if (p < 1) {
    ids = ids.subarray(0, selectNucleus(ids, weights, p * total, logits));
    total = 0;
    for (const i of ids) total += weights[i];
  }
  return { ids, weights, total };
}

/**
 * Draw one token from logits [V] with temperature, then top-k, then top-p filtering (temperature 0:
 * the argmax, lowest id on ties). Runs on the CPU over the logits of one row (greedy decoding never
 * gets here: it uses the GPU argmax).
 */
export function sampleToken(logits: Float32Array, o: SamplingOptions, rand: () => number): number {
  if ((o.temperature ?? 0) === 0) {
    let best = 0;
    for (let i = 1; i < logits.length; i++) if (logits[i] > logits[best]) best = i;
    return best;
  }
  const { ids, weights, total } = samplingCandidates(logits, o);
  let u = rand() * total;
  for (const i of ids) {
    u -= weights[i];
    if (u < 0) return i;
  }
  return ids[ids.length - 1];
}
