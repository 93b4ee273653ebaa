import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../src/errors.ts';
import {
  checkSelector,
  rankByScore,
  rankReused,
  SELECTORS,
  selector,
  signalsFor,
} from '../../src/kvshare/select.ts';

const f = (xs: number[]) => Float32Array.from(xs);

describe('rankReused', () => {
  const reused = [1, 2, 3, 5];
  const signals = {
    paper: f([0, 0.1, 0.9, 0.2, 0, 0.3]),
    dv: f([0, 4, 1, 3, 0, 2]),
    dk: f([0, 0, 20, 10, 0, 10]),
  };

  it('orders the reused positions by their signal, largest first, and ignores the others', () => {
    expect(rankReused('paper', reused, signals)).toEqual([2, 5, 3, 1]);
    expect(rankReused('dv', reused, signals)).toEqual([1, 3, 5, 2]);
    const oracle = f([0, 1, 2, 3, 9, 4]);
    expect(rankByScore(reused, (p) => oracle[p])).toEqual([5, 3, 2, 1]); // position 4 is not reused
  });

  it('dkv adds ‖ΔV‖ and ‖ΔK‖ each scaled by its mean over the reused rows', () => {
    // dv / 2.5 + dk / 10: p1 1.6, p2 2.4, p3 2.2, p5 1.8
    expect(rankReused('dkv', reused, signals)).toEqual([2, 3, 5, 1]);
  });

  it('breaks ties by position and treats NaN as no deviation', () => {
    expect(rankReused('dv', [4, 0, 2], { dv: f([1, 0, 1, 0, 1]) })).toEqual([0, 2, 4]);
    expect(rankReused('dv', [0, 1], { dv: f([Number.NaN, 1]) })).toEqual([1, 0]);
  });

  it('throws a typed error when a needed signal is missing or too short', () => {
    expect(() => rankReused('dkv', reused, { dv: signals.dv })).toThrow(InvalidArgumentError);
    expect(() => rankReused('dv', [9], { dv: signals.dv })).toThrow(/needs the dv signal/);
  });
});

describe('selector names', () => {
  it('checks names and lists the signals each selector reads', () => {
    for (const s of SELECTORS) expect(checkSelector(s)).toBe(s);
    expect(() => checkSelector('best')).toThrow(InvalidArgumentError);
    expect(signalsFor('dkv')).toEqual(['dv', 'dk']);
    expect(() => checkSelector('oracle')).toThrow(InvalidArgumentError); // an evaluation tool, not an option
    expect(selector('dv').signals).toEqual(['dv']);
    const dv = { dv: f([0, 4, 1, 3]) };
    expect(selector('dv').rank([1, 2, 3], dv)).toEqual([1, 3, 2]);
  });
});
