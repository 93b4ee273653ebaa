import { describe, expect, it } from 'vitest';
import { CostModel, rowShares } from '../../src/engine/cost-model.ts';
import { SMOLLM2_SHAPE } from '../helpers/shapes.ts';

// SmolLM2-135M's shape.
const cfg = SMOLLM2_SHAPE;

describe('prefill cost model', () => {
  it('row shares come from the model shape: one layer is 1/L, layer Q/K/V a fraction of it', () => {
    const { layer, qkv, patch } = rowShares(cfg);
    expect(layer).toBeCloseTo(1 / 30, 10);
    expect(qkv).toBeGreaterThan(0);
    expect(qkv).toBeLessThan(layer / 3);
    expect(patch).toBeGreaterThan(0);
    expect(patch).toBeLessThan(qkv / 10); // moving a row's K/V costs far less than computing them
  });

  it('learns ms per row from timed passes and estimates a full prefill from it', () => {
    const m = new CostModel(cfg);
    expect(m.measured).toBe(false);
    m.observeRows(4, 1000); // too few rows to learn from
    expect(m.measured).toBe(false);
    m.observeRows(100, 500);
    expect(m.ms({ patched: 0, scored: 0, computed: 512, continued: 0 })).toBeCloseTo(2560, 6);
  });

  it('chooses scoring for a mostly reusable prompt and skips it for a short tail', () => {
    const m = new CostModel(cfg);
    m.observeRows(100, 500);
    const N = 512;
    const similar = m.choose([
      { path: 'scored', work: { patched: 400, scored: 460, computed: 0, continued: 160 } },
      { path: 'prefix', work: { patched: 50, scored: 0, computed: 462, continued: 0 } },
      { path: 'full', work: { patched: 0, scored: 0, computed: N, continued: 0 } },
    ]);
    expect(similar.path).toBe('scored');
    const shortTail = m.choose([
      { path: 'scored', work: { patched: 503, scored: 8, computed: 0, continued: 6 } },
      { path: 'prefix', work: { patched: 500, scored: 0, computed: 8, continued: 0 } },
      { path: 'full', work: { patched: 0, scored: 0, computed: N, continued: 0 } },
    ]);
    expect(shortTail.path).toBe('prefix');
    const noGain = m.choose([
      { path: 'naive', work: { patched: 10, scored: 0, computed: N, continued: 0 } },
      { path: 'full', work: { patched: 0, scored: 0, computed: N, continued: 0 } },
    ]);
    expect(noGain.path).toBe('full');
  });
});
