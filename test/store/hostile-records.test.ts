// Adversarial IndexedDB records (issue 8): each damaged index record or payload is either refused
// (dropped, counted, warned) or served valid; nothing throws, stats() believes no lie, and the
// neighbouring entry is untouched. Prints tried / wrong / crashed / lost.
import 'fake-indexeddb/auto';
import { set } from 'idb-keyval';
import { describe, expect, it } from 'vitest';
import { type KVEntry, validateEntry } from '../../src/kvshare/entry.ts';
import { MemoryTier } from '../../src/kvshare/memory-tier.ts';
import { encodeEntry } from '../../src/store/codec.ts';
import { PersistentEntryCache } from '../../src/store/idb-store.ts';
import { indexRecordFor, storeKeys } from '../../src/store/records.ts';
import { expectSameEntry, freshDbName, MODEL, rawStore, testEntry } from './helpers.ts';

const CTX = 64;
const keys = storeKeys(MODEL.fingerprint);

/** Write `victim` as a sound entry, then overwrite its index record and/or payload with `damage`. */
type Damage = (victim: KVEntry) => { index?: unknown; payload?: unknown };
const withPayload = (e: KVEntry, edit: (e: KVEntry) => void) => {
  const copy = testEntry(e.id, e.tokens.length, { first: e.tokens[0] });
  edit(copy);
  const payload = encodeEntry(copy);
  return { payload, index: indexRecordFor(copy, payload.byteLength, 0) };
};
const record = (e: KVEntry, patch: Record<string, unknown>) => {
  const payload = encodeEntry(e);
  return { ...indexRecordFor(e, payload.byteLength, 0), ...patch };
};

const DAMAGE: [string, Damage][] = [
  ['index claims 1e9 tokens', (e) => ({ index: record(e, { numTokens: 1e9, bytes: 8e9 }) })],
  ['index bytes disagree with its tokens', (e) => ({ index: record(e, { bytes: 17 }) })],
  ['index sketch of 63 hashes', (e) => ({ index: record(e, { sketch: e.sketch.slice(0, 63) }) })],
  ['index numTokens -3', (e) => ({ index: record(e, { numTokens: -3 }) })],
  ['index is a string', () => ({ index: 'not a record' })],
  ['index names another id', (e) => ({ index: record(e, { id: 'someone-else' }) })],
  ['payload random bytes', () => ({ payload: Uint8Array.from({ length: 300 }, (_, i) => (i * 97) & 255) })],
  ['payload truncated', (e) => ({ payload: encodeEntry(e).slice(0, 100) })],
  ['payload is a string', () => ({ payload: 'KVSE' })],
  ['payload K = 3.4e38, checksum valid', (e) => withPayload(e, (c) => (c.k[0][3] = 3.4e38))],
  ['payload V = NaN, checksum valid', (e) => withPayload(e, (c) => (c.v[1][0] = Number.NaN))],
  ['payload token past vocab', (e) => withPayload(e, (c) => (c.tokens[1] = 5000))],
  ['payload reversed positions', (e) => withPayload(e, (c) => c.positions.reverse())],
  [
    'payload positions past the context',
    (e) => withPayload(e, (c) => c.positions.set(c.positions.map((p) => p + 900))),
  ],
  ['payload of another id', (e) => ({ payload: encodeEntry(testEntry('other', e.tokens.length)) })],
];

async function open(db: string): Promise<PersistentEntryCache> {
  const memory = new MemoryTier({ ...MODEL, contextLength: CTX, budgetBytes: 64 << 20 });
  return PersistentEntryCache.open({
    ...memory.expect,
    memory,
    budgetBytes: 1 << 20,
    dbName: db,
    estimate: null,
  });
}

describe('adversarial IndexedDB records', () => {
  it(`${DAMAGE.length} damaged records: refused or valid, nothing thrown or lost`, async () => {
    const counts = { tried: 0, wrong: 0, crashed: 0, lost: 0 };
    for (const [name, damage] of DAMAGE) {
      counts.tried++;
      const db = freshDbName('hostile-rec');
      const keep = testEntry('keep', 5, { first: 200, exact: true });
      const victim = testEntry('victim', 6, { first: 10 });
      const a = await open(db);
      await a.store(keep);
      await a.store(victim);
      await a.close();
      const d = damage(victim);
      if (d.index !== undefined) await set(keys.index('victim'), d.index, rawStore(db));
      if (d.payload !== undefined) await set(keys.entry('victim'), d.payload, rawStore(db));
      try {
        const b = await open(db);
        const got = await b.get('victim');
        try {
          if (got) validateEntry(got, b.memory.expect); // served: must be valid for this runner
        } catch {
          counts.wrong++;
        }
        const s = b.stats();
        if (s.persistedBytes > 1 << 20 || b.list().some((m) => m.numTokens > CTX * 16)) counts.wrong++;
        const k = await b.get('keep');
        if (!k || k.k[0].join() !== keep.k[0].join() || k.tokens.join() !== keep.tokens.join()) counts.lost++;
        else expectSameEntry(k, keep);
        await b.close();
      } catch (e) {
        console.log(`FUZZ idb ${name}: ${String(e)}`);
        counts.crashed++;
      }
    }
    console.log(`FUZZ idb records: ${JSON.stringify(counts)}`);
    expect(counts).toEqual({ tried: DAMAGE.length, wrong: 0, crashed: 0, lost: 0 });
  });
});
