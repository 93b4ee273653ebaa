// `kvshare bench --profile`'s profileModel: it loads the weights as the benchmarked engine does
// (packed 16-bit kept packed, --quantize honoured) and times one prefill and one decode step.
import { describe, expect, it } from 'vitest';
import { profileModel } from '../../src/cli/profile.ts';
import { nodeGPU } from '../../src/gpu/node-gpu.ts';
import { storiesDir } from '../helpers/models.ts';

const ids = [1, 403, 407, 261, 378, 300, 301, 302];

describe('profileModel', () => {
  it('profiles the quantized weights when asked to', async () => {
    const full = await profileModel(storiesDir(), ids);
    const q8 = await profileModel(storiesDir(), ids, 'q8');
    const q4 = await profileModel(storiesDir(), ids, 'q4');
    expect(q8.weightBytes).toBeLessThan(full.weightBytes);
    expect(q4.weightBytes).toBeLessThan(q8.weightBytes);
    for (const p of [full, q8, q4]) {
      expect(p.steps.map((s) => s.rows)).toEqual([ids.length, 1]);
      for (const s of p.steps)
        expect(s.kinds.map((k) => k.kind)).toEqual(expect.arrayContaining(['q', 'gate', 'lm_head']));
    }
  });

  it('times the ops by timestamps in one submit where the adapter has timestamp queries', async () => {
    const adapter = await (await nodeGPU()).requestAdapter();
    const want = adapter?.features.has('timestamp-query') ? 'timestamps' : 'isolated submits';
    const { steps } = await profileModel(storiesDir(), ids);
    for (const s of steps) {
      expect(s.method).toBe(want);
      expect(s.totalMs).toBeGreaterThan(0);
      for (const k of s.kinds) expect(k.ms).toBeGreaterThanOrEqual(0);
      expect(s.kinds.reduce((a, k) => a + k.count, 0)).toBeGreaterThan(10);
    }
  });
});
