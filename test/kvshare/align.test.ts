import { describe, expect, it } from 'vitest';
import {
  diffSequences,
  diffTokens,
  type EditOp,
  lcsLength,
  lcsRuns,
  lcsRunsBounded,
} from '../../src/kvshare/diff.ts';
import { lcsDp, mulberry32, randomTokens } from './helpers.ts';

/** Checks that ops tile both sequences in order and rebuilds `neu` from `old` plus the inserted/replacing spans. */
function applyScript(old: number[], neu: number[], ops: EditOp[]): { rebuilt: number[]; kept: number } {
  let i = 0;
  let j = 0;
  let kept = 0;
  const rebuilt: number[] = [];
  for (const op of ops) {
    expect(op.oldStart).toBe(i);
    expect(op.newStart).toBe(j);
    expect(op.oldEnd).toBeGreaterThanOrEqual(op.oldStart);
    expect(op.newEnd).toBeGreaterThanOrEqual(op.newStart);
    const oldLen = op.oldEnd - op.oldStart;
    const newLen = op.newEnd - op.newStart;
    switch (op.op) {
      case 'keep':
        expect(oldLen).toBe(newLen);
        expect(oldLen).toBeGreaterThan(0);
        rebuilt.push(...old.slice(op.oldStart, op.oldEnd));
        expect(old.slice(op.oldStart, op.oldEnd)).toEqual(neu.slice(op.newStart, op.newEnd));
        kept += oldLen;
        break;
      case 'delete':
        expect(oldLen).toBeGreaterThan(0);
        expect(newLen).toBe(0);
        break;
      case 'insert':
        expect(oldLen).toBe(0);
        expect(newLen).toBeGreaterThan(0);
        rebuilt.push(...neu.slice(op.newStart, op.newEnd));
        break;
      case 'replace':
        expect(oldLen).toBeGreaterThan(0);
        expect(newLen).toBeGreaterThan(0);
        rebuilt.push(...neu.slice(op.newStart, op.newEnd));
        break;
    }
    i = op.oldEnd;
    j = op.newEnd;
  }
  expect(i).toBe(old.length);
  expect(j).toBe(neu.length);
  return { rebuilt, kept };
}

describe('diffTokens', () => {
  it('keeps exactly an LCS and rebuilds the new sequence on 300 random pairs', () => {
    const rng = mulberry32(12345);
    for (let trial = 0; trial < 300; trial++) {
      const alphabet = 2 + (trial % 5); // 2..6 symbols: many matches
      const old = randomTokens(rng, Math.floor(rng() * 61), alphabet);
      const neu = randomTokens(rng, Math.floor(rng() * 61), alphabet);
      const ops = diffTokens(old, neu);
      const { rebuilt, kept } = applyScript(old, neu, ops);
      expect(rebuilt).toEqual(neu);
      expect(kept).toBe(lcsDp(old, neu));
      expect(lcsLength(old, neu)).toBe(kept);
    }
  });

  it('is optimal on edited copies (the realistic case) too', () => {
    const rng = mulberry32(99);
    for (let trial = 0; trial < 100; trial++) {
      const old = randomTokens(rng, 10 + Math.floor(rng() * 50), 8);
      const neu = old.slice();
      for (let e = 0; e < 1 + (trial % 6); e++) {
        const at = Math.floor(rng() * (neu.length + 1));
        const kind = Math.floor(rng() * 3);
        if (kind === 0) neu.splice(at, 0, Math.floor(rng() * 8));
        else if (kind === 1) neu.splice(at, 1);
        else neu[at] = Math.floor(rng() * 8);
      }
      const { rebuilt, kept } = applyScript(old, neu, diffTokens(old, neu));
      expect(rebuilt).toEqual(neu);
      expect(kept).toBe(lcsDp(old, neu));
    }
  });

  it('handles empty and identical inputs', () => {
    expect(diffTokens([], [])).toEqual([]);
    expect(diffTokens([1, 2], [])).toEqual([
      { op: 'delete', oldStart: 0, oldEnd: 2, newStart: 0, newEnd: 0 },
    ]);
    expect(diffTokens([], [3])).toEqual([{ op: 'insert', oldStart: 0, oldEnd: 0, newStart: 0, newEnd: 1 }]);
    expect(diffTokens([1, 2, 3], [1, 2, 3])).toEqual([
      { op: 'keep', oldStart: 0, oldEnd: 3, newStart: 0, newEnd: 3 },
    ]);
  });

  it('names replace, insert and delete gaps between kept runs', () => {
    // old: 1 2 3 4 5 6   new: 1 9 3 4 7 5
    expect(diffTokens([1, 2, 3, 4, 5, 6], [1, 9, 3, 4, 7, 5])).toEqual([
      { op: 'keep', oldStart: 0, oldEnd: 1, newStart: 0, newEnd: 1 },
      { op: 'replace', oldStart: 1, oldEnd: 2, newStart: 1, newEnd: 2 },
      { op: 'keep', oldStart: 2, oldEnd: 4, newStart: 2, newEnd: 4 },
      { op: 'insert', oldStart: 4, oldEnd: 4, newStart: 4, newEnd: 5 },
      { op: 'keep', oldStart: 4, oldEnd: 5, newStart: 5, newEnd: 6 },
      { op: 'delete', oldStart: 5, oldEnd: 6, newStart: 6, newEnd: 6 },
    ]);
  });

  it('diffs words as well as token ids', () => {
    const ops = diffSequences('the cat sat on the mat'.split(' '), 'the dog sat on a mat'.split(' '));
    expect(ops.filter((o) => o.op === 'keep').reduce((n, o) => n + o.oldEnd - o.oldStart, 0)).toBe(4);
  });

  it('merges adjacent runs, and its work grows with the edits, not the length, on 4096-token prompts', () => {
    const rng = mulberry32(7);
    const old = randomTokens(rng, 4096, 512);
    const neu = old.slice();
    for (let e = 0; e < 40; e++) neu[Math.floor(rng() * neu.length)] = 600 + e; // 40 substitutions
    const runs = lcsRuns(old, neu);
    expect(runs.reduce((n, r) => n + r.length, 0)).toBe(4096 - 40);
    for (let r = 1; r < runs.length; r++) {
      const p = runs[r - 1];
      expect(p.oldStart + p.length === runs[r].oldStart && p.newStart + p.length === runs[r].newStart).toBe(
        false,
      );
    }
    // Work, counted in diagonals visited (a deterministic stand-in for time): a few dozen edits stay
    // within a few thousand steps, three orders of magnitude below the quadratic worst case.
    expect(lcsRunsBounded(old, neu, 20_000)).toEqual(runs);
    // Nothing in common: the worst case (D = N + M) still finishes with the right answer, and a
    // bounded search gives up instead.
    const other = randomTokens(rng, 4096, 512).map((t) => t + 1000);
    expect(lcsLength(old, other)).toBe(0);
    expect(lcsRunsBounded(old, other, 20_000)).toBeNull();
  });
});
