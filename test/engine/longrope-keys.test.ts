// Phi-3's longrope rotates with its short factors up to the original context (64 here) and with its
// long factors past it, so the same weights loaded with a longer context cache differently rotated
// keys. Their entries are keyed apart (runnerFingerprint): a pack of one is a wrong-model pack to the
// other, while a model without longrope keeps one fingerprint at every context.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CachePackError } from '../../src/errors.ts';
import { loadModelFiles } from '../../src/model/load.ts';
import { createNodeTokenEngine } from '../../src/node/index.ts';
import { type ArchName, writeArchModel } from '../helpers/arch-models.ts';

const tmp = mkdtempSync(join(tmpdir(), 'kvshare-longrope-keys-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const PROMPT = 'Once upon a time, there was a little girl named Lily.';

/** The fingerprints of `arch` loaded at a 64- and a 512-position context, and whether a pack of one imports into the other. */
async function twoContexts(arch: ArchName) {
  const { folder } = await writeArchModel(arch, tmp, []);
  const plain = (await loadModelFiles(folder)).fingerprint;
  const short = createNodeTokenEngine();
  const long = createNodeTokenEngine();
  try {
    const s = await short.load(folder, { contextLength: 64 });
    const l = await long.load(folder, { contextLength: 512 });
    await long.cache.add(PROMPT);
    const pack = await long.cache.exportPack();
    const imported = await short.cache.importPack(pack).then(
      (r) => r.ids.length,
      (e: unknown) => e,
    );
    return { plain, short: s.fingerprint, long: l.fingerprint, imported };
  } finally {
    await short.unload();
    await long.unload();
  }
}

describe('entries are keyed to the rotation they hold', () => {
  it('phi3 longrope: a runner past the original context keys its entries apart from one within it', async () => {
    const r = await twoContexts('phi3');
    expect(r.short).toBe(r.plain); // within the original context: the weights' fingerprint, as before
    expect(r.long).not.toBe(r.plain);
    expect(r.long).toMatch(/^[0-9a-f]{64}$/);
    expect(r.imported).toBeInstanceOf(CachePackError);
    expect(String(r.imported)).toMatch(/model/);
  }, 120_000);

  it('llama (no longrope): one fingerprint at every context, and packs move between them', async () => {
    const r = await twoContexts('llama');
    expect(r.short).toBe(r.plain);
    expect(r.long).toBe(r.plain);
    expect(r.imported).toBe(1);
  }, 120_000);
});
