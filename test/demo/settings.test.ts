// The demo's settings check (demo/ui/settings.ts): out-of-range values are refused with a reason,
// never replaced.
import { describe, expect, it } from 'vitest';
import { MAX_TEMPERATURE, settingsProblem } from '../../demo/ui/settings.ts';

describe('settingsProblem', () => {
  it('accepts whole max new tokens from 1 to the context length and temperatures from 0 to the cap', () => {
    for (const [n, t] of [
      [1, 0],
      [512, MAX_TEMPERATURE],
      [32, 0.7],
    ])
      expect(settingsProblem(n, t, 512)).toBeNull();
  });

  it('refuses max new tokens that are 0, negative, fractional, empty or beyond the context', () => {
    for (const n of [0, -5, 2.5, Number.NaN, 513, 100_000])
      expect(settingsProblem(n, 0, 512)).toBe(
        "Max new tokens must be a whole number from 1 to 512 (the model's context length).",
      );
  });

  it('refuses negative, absurd or empty temperatures', () => {
    for (const t of [-1, 50, MAX_TEMPERATURE + 0.01, Number.NaN, Number.POSITIVE_INFINITY])
      expect(settingsProblem(8, t, 512)).toBe(`Temperature must be from 0 (greedy) to ${MAX_TEMPERATURE}.`);
  });
});
