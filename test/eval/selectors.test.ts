import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../src/errors.ts';
import { checkEvalSelector, EVAL_SELECTORS, researchSelector, shuffled } from '../../src/eval/selectors.ts';

describe('the evaluation selectors', () => {
  it('random is a seeded permutation of the reused positions', () => {
    const many = Array.from({ length: 50 }, (_, i) => i * 2);
    const a = shuffled(many, 7);
    expect(a).toEqual(shuffled(many, 7));
    expect(a).not.toEqual(shuffled(many, 8));
    expect(a).not.toEqual(many);
    expect([...a].sort((x, y) => x - y)).toEqual(many);
  });

  it('names the engine selectors and the research ones; only the research ones become hooks', () => {
    for (const s of EVAL_SELECTORS) expect(checkEvalSelector(s)).toBe(s);
    expect(() => checkEvalSelector('best')).toThrow(InvalidArgumentError);
    expect(researchSelector('dkv')).toBeNull();
    expect(researchSelector('random')?.signals).toEqual([]);
    expect(researchSelector('oracle')?.beforePatch).toBeTypeOf('function');
  });
});
