// Seeded fuzz of KV pack import through the real engine (stories260K on the Node WebGPU adapter):
// every mutated pack gives a typed error or a valid result, a failed import leaves the store exactly
// as it was, the user's entry is never changed, and later prefix-mode answers equal full compute.
// Prints one line of counts per mutation family (tried / accepted / wrong / crashed / lost).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Engine } from '../../src/engine/engine.ts';
import { KVShareError } from '../../src/errors.ts';
import { type EntryExpectation, type KVEntry, validateEntry } from '../../src/kvshare/entry.ts';
import { createNodeTokenEngine } from '../../src/node/index.ts';
import { crc32 } from '../../src/store/codec.ts';
import { decodePack, encodePack } from '../../src/store/pack.ts';
import { mulberry32 } from '../../src/util/prng.ts';
import { storiesDir } from '../helpers/models.ts';

const MUTATIONS = 320;
const PROMPTS = [
  'Once upon a time, there was a little girl named Lily. She loved to play outside.',
  'One day, a big dog came to the park. The dog was very happy to see the kids.',
  'Tom had a red ball. He liked to throw it high in the sky.',
];
const USER = 'Once upon a time, there was a little boy named Tim. He had a toy car.';
const engine: Engine = createNodeTokenEngine();
let expectation: EntryExpectation;
let base: Uint8Array;
let userId: string;

beforeAll(async () => {
  const info = await engine.load(storiesDir(), { contextLength: 128 });
  const c = info.config;
  expectation = {
    fingerprint: info.fingerprint,
    numLayers: c.numLayers,
    kvDim: c.numKvHeads * c.headDim,
    vocabSize: c.vocabSize,
    contextLength: info.contextLength,
    numHashes: 64,
  };
  const ids: string[] = [];
  for (const p of PROMPTS) ids.push((await engine.cache.add(p)).id);
  base = await engine.cache.exportPack(ids);
  for (const id of ids) await engine.cache.delete(id);
  userId = (await engine.cache.add(USER)).id;
});
afterAll(() => engine.unload());

/** id → digest of everything an entry holds but its recency. */
async function snapshot(): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const m of engine.cache.list()) {
    const e = (await engine.cache.get(m.id))!;
    const parts = [e.tokens, e.positions, e.sketch, ...e.k, ...e.v].map(
      (a) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength),
    );
    let h = e.exact ? 1 : 0;
    for (const p of parts) h = (crc32(p) ^ Math.imul(h, 31)) >>> 0;
    out.set(m.id, h);
  }
  return out;
}
const same = (a: Map<string, number>, b: Map<string, number>) =>
  a.size === b.size && [...a].every(([k, v]) => b.get(k) === v);

type Mutator = (rand: () => number) => Uint8Array | null;
const pick = <T>(rand: () => number, xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)];
const int = (rand: () => number, n: number) => Math.floor(rand() * n);

/** Re-encode the base pack after changing its decoded entries (checksums and layout stay valid). */
function semantic(change: (entries: KVEntry[], rand: () => number) => void): Mutator {
  return (rand) => {
    const entries = decodePack(base, expectation);
    change(entries, rand);
    try {
      return encodePack(entries, expectation.fingerprint);
    } catch {
      return null; // not encodable (e.g. duplicate ids): not a pack
    }
  };
}
const POISON = [Number.NaN, Number.POSITIVE_INFINITY, -Number.POSITIVE_INFINITY, 3.4e38, -7e4, 1e6];

const MUTATORS: Record<string, Mutator> = {
  bitflip: (rand) => {
    const b = base.slice();
    for (let i = 1 + int(rand, 8); i > 0; i--) b[int(rand, b.length)] ^= 1 << int(rand, 8);
    return b;
  },
  bytes: (rand) => {
    const b = base.slice();
    for (let i = 1 + int(rand, 4); i > 0; i--) b[int(rand, b.length)] = pick(rand, [0, 0xff, int(rand, 256)]);
    return b;
  },
  truncate: (rand) => base.slice(0, int(rand, base.length)),
  extend: (rand) => {
    const b = new Uint8Array(base.length + 1 + int(rand, 64));
    b.set(base);
    for (let i = base.length; i < b.length; i++) b[i] = int(rand, 256);
    return b;
  },
  header: (rand) => {
    const b = base.slice();
    const dv = new DataView(b.buffer);
    const at = pick(rand, [8, 12, 80, 84, 88, 96, 104, 112 + 8 * int(rand, 8)]);
    dv.setUint32(at, pick(rand, [0, 1, 2, 0xffffffff, 0x80000000, b.length, int(rand, 1 << 16)]), true);
    return b;
  },
  tokens: semantic((es, rand) => {
    const e = pick(rand, es);
    e.tokens[int(rand, e.tokens.length)] = pick(rand, [-1, expectation.vocabSize!, 0x7fffffff]);
  }),
  positions: semantic((es, rand) => {
    const e = pick(rand, es);
    const ctx = expectation.contextLength!;
    const how = int(rand, 4);
    if (how === 0) e.positions.reverse();
    else if (how === 1) e.positions[e.positions.length - 1] = ctx + int(rand, 2000);
    else if (how === 2) e.positions[1] = e.positions[0];
    else e.positions.set(e.positions.map((p) => p + ctx - e.positions.length)); // last row at ctx - 1: valid
  }),
  values: semantic((es, rand) => {
    const e = pick(rand, es);
    const a = pick(rand, [...e.k, ...e.v]);
    a[int(rand, a.length)] = pick(rand, POISON);
  }),
  scaled: semantic((es, rand) => {
    const e = pick(rand, es);
    const f = 0.25 + 4 * rand(); // plausible values: accepted, but never as exact
    for (const a of e.k) for (let i = 0; i < a.length; i++) a[i] *= f;
    e.exact = true;
  }),
  sketch: semantic((es, rand) => {
    const e = pick(rand, es);
    e.sketch = rand() < 0.5 ? e.sketch.slice(0, 63) : Uint32Array.from([...e.sketch, 7]);
  }),
  collide: semantic((es, rand) => {
    es[0].id = userId; // the user's id, with other content
    if (rand() < 0.7) es[es.length - 1].sketch = es[es.length - 1].sketch.slice(0, 63); // invalid last entry
  }),
  times: semantic((es, rand) => {
    pick(rand, es).createdAt = pick(rand, [Number.NaN, Number.POSITIVE_INFINITY]);
  }),
};

interface Counts {
  tried: number;
  accepted: number;
  wrong: number;
  crashed: number;
  lost: number;
}

describe('pack import fuzz (seeded)', () => {
  it(`${MUTATIONS} mutated packs: typed error or valid result, nothing lost, answers equal full compute`, async () => {
    const rand = mulberry32(0x8f00d);
    const names = Object.keys(MUTATORS);
    const counts = new Map(names.map((n) => [n, { tried: 0, accepted: 0, wrong: 0, crashed: 0, lost: 0 }]));
    const keep: Uint8Array[] = []; // accepted hostile packs, imported again before the answers check
    const t0 = performance.now();
    for (let i = 0; i < MUTATIONS; i++) {
      const name = names[i % names.length];
      const bytes = MUTATORS[name](rand);
      if (!bytes) continue;
      const c = counts.get(name) as Counts;
      c.tried++;
      const before = await snapshot();
      try {
        const r = await engine.cache.importPack(bytes);
        c.accepted++;
        for (const id of r.ids) {
          const e = await engine.cache.get(id);
          try {
            if (!e || e.exact) throw new Error('missing, or trusted as exact');
            validateEntry(e, expectation);
          } catch {
            c.wrong++;
          }
        }
        const after = await snapshot();
        if ([...before].some(([id, h]) => after.get(id) !== h)) c.lost++;
        for (const id of r.ids) await engine.cache.delete(id);
        if (name === 'scaled' || name === 'positions') keep.push(bytes);
      } catch (e) {
        if (!(e instanceof KVShareError)) c.crashed++;
        if (!same(before, await snapshot())) c.lost++;
      }
    }
    const fuzzMs = performance.now() - t0;

    // Later answers: with the accepted hostile entries in the cache, prefix mode (lossless) must equal
    // full compute; kvshare and naive must answer or fail typed.
    for (const bytes of keep.slice(0, 4)) await engine.cache.importPack(bytes).catch(() => undefined);
    const answers = { tried: 0, accepted: 0, wrong: 0, crashed: 0, lost: 0 };
    for (const p of [...PROMPTS, USER].map((s) => `${s} Then`)) {
      const opts = { maxNewTokens: 12, cachePrompt: false } as const;
      const ref = await engine.generate(p, { ...opts, reuse: { mode: 'none' } });
      for (const mode of ['prefix', 'naive', 'kvshare'] as const) {
        answers.tried++;
        try {
          const r = await engine.generate(p, { ...opts, reuse: { mode } });
          answers.accepted++;
          if (mode === 'prefix' && r.tokenIds.join() !== ref.tokenIds.join()) answers.wrong++;
        } catch (e) {
          if (!(e instanceof KVShareError)) answers.crashed++;
        }
      }
    }
    const user = await engine.cache.get(userId);
    if (!user) answers.lost++;

    for (const [name, c] of counts) console.log(`FUZZ pack ${name}: ${JSON.stringify(c)}`);
    console.log(`FUZZ answers: ${JSON.stringify(answers)}; fuzz loop ${fuzzMs.toFixed(0)} ms`);
    const total = [...counts.values(), answers].reduce(
      (s, c) => ({ wrong: s.wrong + c.wrong, crashed: s.crashed + c.crashed, lost: s.lost + c.lost }),
      { wrong: 0, crashed: 0, lost: 0 },
    );
    expect(total).toEqual({ wrong: 0, crashed: 0, lost: 0 });
    expect([...counts.values()].reduce((s, c) => s + c.tried, 0)).toBeGreaterThan(MUTATIONS * 0.9);
    expect([...counts.values()].some((c) => c.accepted > 0)).toBe(true);
  });
});
