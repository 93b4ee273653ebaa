// KV reuse on each newer architecture (Llama 3 and linear RoPE scaling, Qwen2, Qwen3 q/k norm, Phi-3
// longrope with partial rotary, Mistral's sliding window, Gemma 2 and Gemma 3 with windowed layers and
// Gemma 3's per-layer RoPE), on small random-weight models: exact repeats and prefix reuse answer
// exactly as mode `none` (the patch's re-rotation uses each layer's own frequencies; the windows
// of 40–48 positions are shorter than the prompts), and kvshare answers a similar prompt.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ReuseMode } from '../../src/engine/prefill.ts';
import { cachedPrompts, parsePairsJsonl } from '../../src/eval/pairs.ts';
import { createNodeTokenEngine } from '../../src/node/index.ts';
import { type ArchName, writeArchModel } from '../helpers/arch-models.ts';

const pairs = parsePairsJsonl(
  readFileSync(new URL('../../bench/pairs/stories.jsonl', import.meta.url), 'utf8'),
).map((p) => ({ a: cachedPrompts(p)[0], b: p.b }));
const tmp = mkdtempSync(join(tmpdir(), 'kvshare-arch-reuse-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const NEW = 12;

describe.each([
  'llama3',
  'llama-linear',
  'qwen2',
  'qwen3',
  'phi3',
  'mistral',
  'gemma2',
  'gemma3',
] as ArchName[])('%s', (arch) => {
  it('exact repeat and prefix reuse answer as none; kvshare answers a similar prompt', async () => {
    const { folder } = await writeArchModel(arch, tmp, []);
    const engine = createNodeTokenEngine();
    await engine.load(folder, { contextLength: 512 });
    try {
      const ask = (prompt: string, mode: ReuseMode) =>
        engine.generate(prompt, { maxNewTokens: NEW, reuse: { mode }, cachePrompt: false });
      const { a } = pairs[5];
      const ref = await ask(a, 'none');
      expect(ref.tokenIds.length).toBeGreaterThan(0);
      expect(ref.reuse.promptTokens).toBeGreaterThan(48); // past every test model's window
      // exact repeat: from the live KV, then from the stored entry
      await engine.cache.clear();
      await engine.cache.add(a);
      const live = await ask(a, 'prefix');
      expect(live.tokenIds).toEqual(ref.tokenIds);
      expect(live.reuse.recomputedTokens).toBe(1);
      await ask('Zed went to the shop.', 'none');
      const stored = await ask(a, 'prefix');
      expect(stored.tokenIds).toEqual(ref.tokenIds);
      expect(stored.reuse.entryIds).toHaveLength(1);
      expect(stored.reuse.recomputedTokens).toBe(1);
      // prefix reuse of a cached prompt's common prefix
      let reused = 0;
      for (const { a: cached, b } of pairs.slice(0, 3)) {
        await engine.cache.clear();
        const none = await ask(b, 'none');
        await engine.cache.add(cached);
        const prefix = await ask(b, 'prefix');
        expect(prefix.tokenIds).toEqual(none.tokenIds);
        reused += prefix.reuse.reusedTokens;
      }
      expect(reused).toBeGreaterThan(0);
      // kvshare on a similar prompt: rows past the exact prefix come from the cached entry
      const { a: cached, b } = pairs[2];
      await engine.cache.clear();
      await engine.cache.add(cached);
      const shared = await ask(b, 'kvshare');
      expect(shared.tokenIds.length).toBeGreaterThan(0);
      expect(shared.reuse.reusedTokens).toBeGreaterThan(shared.reuse.promptTokens / 2);
      expect(shared.reuse.reusedTokens + shared.reuse.recomputedTokens).toBe(shared.reuse.promptTokens);
    } finally {
      await engine.unload();
    }
  });
});
