/**
 * LCS-optimal diff of two sequences (Myers 1986, "An O(ND) Difference Algorithm", linear-space variant).
 *
 * Complexity: O((N + M) · D) time and O(N + M) space, where N and M are the sequence lengths and D is the
 * number of inserted plus deleted elements in the shortest edit script. Near-duplicate prompts have a small
 * D, so two 4096-token prompts that differ in a few words diff in well under a millisecond; the worst case
 * (nothing in common, D = N + M) is about (N + M)² / 2 steps: ~30 M simple steps for 4096 vs 4096.
 *
 * The recursion strips the common prefix and suffix, finds a point on an optimal path half-way through the
 * edit (the "middle snake", found by running the greedy search forwards and backwards at once) and splits
 * there. The split point halves D, so the recursion depth is O(log D).
 */

/** One step of an edit script; ranges are half-open. `replace` ranges may differ in length. */
export interface EditOp {
  op: 'keep' | 'replace' | 'insert' | 'delete';
  oldStart: number;
  oldEnd: number;
  newStart: number;
  newEnd: number;
}

/** A run of equal elements: old[oldStart + i] === neu[newStart + i] for 0 <= i < length. */
export interface MatchRun {
  oldStart: number;
  newStart: number;
  length: number;
}

/**
 * Matched runs of an LCS of `a` and `b`, in increasing order of both positions, adjacent runs merged.
 * The total run length equals the LCS length. Elements compare with `===`.
 */
export function lcsRuns<T>(a: ArrayLike<T>, b: ArrayLike<T>): MatchRun[] {
  return lcsRunsBounded(a, b, Number.POSITIVE_INFINITY)!;
}

/**
 * `lcsRuns` that gives up, returning null, once the search has visited more than `maxSteps` diagonals
 * (roughly 5–10 ns each): a cap on the cost of aligning two very different sequences. Two 4096-token prompts
 * with nothing in common take about 17 M steps; a few dozen edits take a few thousand.
 */
export function lcsRunsBounded<T>(a: ArrayLike<T>, b: ArrayLike<T>, maxSteps: number): MatchRun[] | null {
  const runs: MatchRun[] = [];
  const push = (oldStart: number, newStart: number, length: number): void => {
    const last = runs[runs.length - 1];
    if (last && last.oldStart + last.length === oldStart && last.newStart + last.length === newStart) {
      last.length += length;
    } else {
      runs.push({ oldStart, newStart, length });
    }
  };
  const scratch = new Scratch();
  const solve = (aLo: number, aHi: number, bLo: number, bHi: number): void => {
    let p = 0;
    while (aLo + p < aHi && bLo + p < bHi && a[aLo + p] === b[bLo + p]) p++;
    if (p > 0) push(aLo, bLo, p);
    aLo += p;
    bLo += p;
    let s = 0;
    while (aLo < aHi - s && bLo < bHi - s && a[aHi - 1 - s] === b[bHi - 1 - s]) s++;
    aHi -= s;
    bHi -= s;
    if (aLo < aHi && bLo < bHi) {
      const split = middleSplit(a, aLo, aHi, b, bLo, bHi, scratch);
      if (split !== null) {
        solve(aLo, split[0], bLo, split[1]);
        solve(split[0], aHi, split[1], bHi);
      }
    }
    if (s > 0) push(aHi, bHi, s);
  };
  scratch.budget = maxSteps;
  try {
    solve(0, a.length, 0, b.length);
  } catch (err) {
    if (err === BUDGET_EXCEEDED) return null;
    throw err;
  }
  return runs;
}

/** Length of a longest common subsequence (via the Myers diff above). */
export function lcsLength<T>(a: ArrayLike<T>, b: ArrayLike<T>): number {
  let n = 0;
  for (const r of lcsRuns(a, b)) n += r.length;
  return n;
}

/**
 * Edit script turning `old` into `neu` that keeps as many elements as possible (an LCS).
 * The ops tile both sequences exactly, in order: each op starts where the previous one ended on both sides.
 * Between two kept runs, a gap present on both sides is one `replace`; on one side only, `delete`/`insert`.
 */
export function diffTokens(old: ArrayLike<number>, neu: ArrayLike<number>): EditOp[] {
  return diffSequences(old, neu);
}

/** `diffTokens` for any element type compared with `===` (e.g. words). */
export function diffSequences<T>(old: ArrayLike<T>, neu: ArrayLike<T>): EditOp[] {
  const ops: EditOp[] = [];
  let i = 0;
  let j = 0;
  const gap = (oldEnd: number, newEnd: number): void => {
    if (oldEnd > i || newEnd > j) {
      const op = oldEnd > i && newEnd > j ? 'replace' : oldEnd > i ? 'delete' : 'insert';
      ops.push({ op, oldStart: i, oldEnd, newStart: j, newEnd });
    }
  };
  for (const r of lcsRuns(old, neu)) {
    gap(r.oldStart, r.newStart);
    ops.push({
      op: 'keep',
      oldStart: r.oldStart,
      oldEnd: r.oldStart + r.length,
      newStart: r.newStart,
      newEnd: r.newStart + r.length,
    });
    i = r.oldStart + r.length;
    j = r.newStart + r.length;
  }
  gap(old.length, neu.length);
  return ops;
}

const BUDGET_EXCEEDED = new Error('diff step budget exceeded');

/** Reusable diagonal arrays for the middle-snake search, grown on demand, and the remaining step budget. */
class Scratch {
  budget = Number.POSITIVE_INFINITY;
  fwd = new Int32Array(0); // [2·maxD + 2] furthest x reached on each diagonal, forward search
  bwd = new Int32Array(0); // [2·maxD + 2] furthest x reached on each diagonal, backward search (from the end)
  ensure(size: number): void {
    if (this.fwd.length < size) {
      this.fwd = new Int32Array(size);
      this.bwd = new Int32Array(size);
    }
  }
}

/**
 * A point (x, y), absolute in a and b, on an optimal edit path of a[aLo, aHi) vs b[bLo, bHi), strictly inside
 * the problem so that both halves are smaller. Callers strip the common prefix and suffix first.
 * Returns null when the two ranges share no element at all.
 */
function middleSplit<T>(
  a: ArrayLike<T>,
  aLo: number,
  aHi: number,
  b: ArrayLike<T>,
  bLo: number,
  bHi: number,
  scratch: Scratch,
): [number, number] | null {
  const n = aHi - aLo;
  const m = bHi - bLo;
  const maxD = Math.ceil((n + m) / 2);
  const off = maxD; // diagonal k is stored at index k + off
  const size = 2 * maxD + 2;
  scratch.ensure(size);
  const v1 = scratch.fwd;
  const v2 = scratch.bwd;
  v1.fill(-1, 0, size);
  v2.fill(-1, 0, size);
  v1[off + 1] = 0;
  v2[off + 1] = 0;
  const delta = n - m;
  const front = (delta & 1) !== 0; // odd delta: paths meet while extending forward
  let k1start = 0;
  let k1end = 0;
  let k2start = 0;
  let k2end = 0;
  for (let d = 0; d < maxD; d++) {
    scratch.budget -= 2 * d + 2;
    if (scratch.budget < 0) throw BUDGET_EXCEEDED;
    for (let k1 = -d + k1start; k1 <= d - k1end; k1 += 2) {
      const i1 = off + k1;
      let x1 = k1 === -d || (k1 !== d && v1[i1 - 1] < v1[i1 + 1]) ? v1[i1 + 1] : v1[i1 - 1] + 1;
      let y1 = x1 - k1;
      while (x1 < n && y1 < m && a[aLo + x1] === b[bLo + y1]) {
        x1++;
        y1++;
      }
      v1[i1] = x1;
      if (x1 > n) k1end += 2;
      else if (y1 > m) k1start += 2;
      else if (front) {
        const i2 = off + delta - k1;
        if (i2 >= 0 && i2 < size && v2[i2] !== -1 && x1 >= n - v2[i2]) return [aLo + x1, bLo + y1];
      }
    }
    for (let k2 = -d + k2start; k2 <= d - k2end; k2 += 2) {
      const i2 = off + k2;
      let x2 = k2 === -d || (k2 !== d && v2[i2 - 1] < v2[i2 + 1]) ? v2[i2 + 1] : v2[i2 - 1] + 1;
      let y2 = x2 - k2;
      while (x2 < n && y2 < m && a[aHi - 1 - x2] === b[bHi - 1 - y2]) {
        x2++;
        y2++;
      }
      v2[i2] = x2;
      if (x2 > n) k2end += 2;
      else if (y2 > m) k2start += 2;
      else if (!front) {
        const i1 = off + delta - k2;
        if (i1 >= 0 && i1 < size && v1[i1] !== -1) {
          const x1 = v1[i1];
          const y1 = off + x1 - i1;
          if (x1 >= n - x2) return [aLo + x1, bLo + y1];
        }
      }
    }
  }
  return null;
}
