/**
 * Fidelity metrics for reuse (docs/DESIGN.md, How we know it works): how close the answer generated after KV reuse is to the answer of
 * a full computation. Pure functions over arrays of tokens or words (anything compared with `===`).
 * Convention throughout: `candidate` is the answer under test, `reference` the full-computation answer.
 */
import { InvalidArgumentError } from '../errors.ts';
import { lcsLength } from '../kvshare/diff.ts';

export type Seq = ArrayLike<string> | ArrayLike<number>;

export interface RougeLScores {
  precision: number; // LCS / |candidate|
  recall: number; // LCS / |reference|
  f1: number; // harmonic mean (beta = 1)
}

/** ROUGE-L (Lin 2004) over one candidate/reference pair; two empty sequences score 1, one empty 0. */
export function rougeLScores(candidate: Seq, reference: Seq): RougeLScores {
  if (candidate.length === 0 && reference.length === 0) return { precision: 1, recall: 1, f1: 1 };
  if (candidate.length === 0 || reference.length === 0) return { precision: 0, recall: 0, f1: 0 };
  const lcs = lcsLength<string | number>(candidate, reference);
  const precision = lcs / candidate.length;
  const recall = lcs / reference.length;
  const f1 = lcs === 0 ? 0 : (2 * precision * recall) / (precision + recall);
  return { precision, recall, f1 };
}

/** ROUGE-L F1 (beta = 1). */
export function rougeL(candidate: Seq, reference: Seq): number {
  return rougeLScores(candidate, reference).f1;
}

export interface BleuOptions {
  maxN?: number; // highest n-gram order (default 4)
}

/**
 * Sentence BLEU (Papineni et al. 2002) with uniform weights over orders 1..maxN and the brevity penalty
 * BP = min(1, exp(1 - |reference| / |candidate|)).
 *
 * Smoothing: "add-one for n > 1" (Lin & Och 2004, BLEU+1; method 2 of Chen & Cherry 2014): for orders
 * n >= 2 the clipped precision is (matches + 1) / (candidate n-grams + 1); the unigram precision is not
 * smoothed, so an answer sharing no token with the reference scores exactly 0, while a short answer with no
 * 4-gram match does not collapse to 0. Identical non-empty sequences score 1; two empty sequences score 1.
 */
export function bleu(candidate: Seq, reference: Seq, opts: BleuOptions = {}): number {
  const maxN = opts.maxN ?? 4;
  if (candidate.length === 0) return reference.length === 0 ? 1 : 0;
  let logSum = 0;
  for (let n = 1; n <= maxN; n++) {
    const { matches, total } = clippedMatches(candidate, reference, n);
    const p = n === 1 ? matches / total : (matches + 1) / (total + 1);
    if (p === 0) return 0;
    logSum += Math.log(p);
  }
  const c = candidate.length;
  const r = reference.length;
  const bp = c > r ? 1 : Math.exp(1 - r / c);
  return bp * Math.exp(logSum / maxN);
}

/** Clipped n-gram matches of candidate against reference, and the candidate's n-gram count. */
function clippedMatches(candidate: Seq, reference: Seq, n: number): { matches: number; total: number } {
  const refCounts = ngramCounts(reference, n);
  const candCounts = ngramCounts(candidate, n);
  let matches = 0;
  let total = 0;
  for (const [g, c] of candCounts) {
    total += c;
    matches += Math.min(c, refCounts.get(g) ?? 0);
  }
  return { matches, total };
}

function ngramCounts(seq: Seq, n: number): Map<string, number> {
  const counts = new Map<string, number>();
  for (let s = 0; s + n <= seq.length; s++) {
    let key = '';
    for (let t = 0; t < n; t++) key += `${typeof seq[s + t]}:${seq[s + t]}\u0000`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return counts;
}

/**
 * Exact agreement: positions where both sequences hold the same element, divided by the longer length
 * (a shorter answer counts its missing tail as disagreement). Two empty sequences agree fully (1).
 */
export function exactAgreement(a: Seq, b: Seq): number {
  const longer = Math.max(a.length, b.length);
  if (longer === 0) return 1;
  const shorter = Math.min(a.length, b.length);
  let same = 0;
  for (let i = 0; i < shorter; i++) if (a[i] === b[i]) same++;
  return same / longer;
}

/** 1 when the first elements agree (or both are empty), else 0; average it over pairs for a rate. */
export function firstTokenAgreement(a: Seq, b: Seq): number {
  if (a.length === 0 || b.length === 0) return a.length === b.length ? 1 : 0;
  return a[0] === b[0] ? 1 : 0;
}

/** Lower-cased words and punctuation marks of `text`, for word-level ROUGE-L/BLEU over decoded answers. */
export function words(text: string): string[] {
  return text.toLowerCase().match(/[\p{L}\p{N}]+(?:'[\p{L}]+)?|[^\s\p{L}\p{N}]/gu) ?? [];
}

/**
 * KL(P || Q) in nats between the softmax distributions of two logit vectors [V]: P the reference (full
 * computation), Q the candidate. 0 when they agree; computed with log-sum-exp, so large logits are safe.
 */
export function klDivergence(referenceLogits: ArrayLike<number>, candidateLogits: ArrayLike<number>): number {
  if (referenceLogits.length !== candidateLogits.length || referenceLogits.length === 0)
    throw new InvalidArgumentError(
      `logit vectors must be non-empty and of one length (${referenceLogits.length} vs ${candidateLogits.length})`,
    );
  const lp = logSoftmax(referenceLogits);
  const lq = logSoftmax(candidateLogits);
  let kl = 0;
  for (let i = 0; i < lp.length; i++) kl += Math.exp(lp[i]) * (lp[i] - lq[i]);
  return Math.max(0, kl);
}

function logSoftmax(x: ArrayLike<number>): Float64Array {
  let max = -Infinity;
  for (let i = 0; i < x.length; i++) max = Math.max(max, x[i]);
  let sum = 0;
  for (let i = 0; i < x.length; i++) sum += Math.exp(x[i] - max);
  const lse = max + Math.log(sum);
  const out = new Float64Array(x.length); // [V]
  for (let i = 0; i < x.length; i++) out[i] = x[i] - lse;
  return out;
}
