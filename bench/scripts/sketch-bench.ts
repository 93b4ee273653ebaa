/**
 * Micro-benchmark of MinHash retrieval: signature cost, index build, and query time (LSH shortlist vs a
 * full scan) over 1k and 10k cached prompts of random tokens, with planted near-duplicates of each query.
 *
 *   node --import tsx bench/scripts/sketch-bench.ts
 */
import { performance } from 'node:perf_hooks';
import { minhashSignature, SketchIndex } from '../../src/kvshare/sketch.ts';
import { mulberry32 } from '../../src/util/prng.ts';

const VOCAB = 32000;
const PROMPT_LEN = 256;
const QUERIES = 200;

function randomPrompt(rng: () => number, len: number): Int32Array {
  return Int32Array.from({ length: len }, () => Math.floor(rng() * VOCAB)); // [len]
}

/** A copy of `base` with `edits` random single-token substitutions. */
function nearDuplicate(rng: () => number, base: Int32Array, edits: number): Int32Array {
  const out = base.slice(); // [len]
  for (let e = 0; e < edits; e++) out[Math.floor(rng() * out.length)] = Math.floor(rng() * VOCAB);
  return out;
}

function timeMs(fn: () => void): number {
  const t0 = performance.now();
  fn();
  return performance.now() - t0;
}

function run(numEntries: number): void {
  const rng = mulberry32(numEntries);
  const prompts: Int32Array[] = [];
  for (let i = 0; i < numEntries; i++) prompts.push(randomPrompt(rng, PROMPT_LEN));
  const sigs: Uint32Array[] = [];
  const sigMs = timeMs(() => {
    for (const p of prompts) sigs.push(minhashSignature(p));
  });
  const index = new SketchIndex();
  const buildMs = timeMs(() => {
    for (let i = 0; i < sigs.length; i++) index.add(`e${i}`, sigs[i]);
  });

  const queries: { sig: Uint32Array; want: string }[] = [];
  for (let q = 0; q < QUERIES; q++) {
    const target = Math.floor(rng() * numEntries);
    queries.push({ sig: minhashSignature(nearDuplicate(rng, prompts[target], 8)), want: `e${target}` });
  }
  let lshFound = 0;
  let scanFound = 0;
  const lshMs = timeMs(() => {
    for (const q of queries) if (index.query(q.sig, { topK: 5 })[0]?.id === q.want) lshFound++;
  });
  const scanMs = timeMs(() => {
    for (const q of queries)
      if (index.query(q.sig, { topK: 5, exhaustive: true })[0]?.id === q.want) scanFound++;
  });
  const f = (x: number): string => x.toFixed(4);
  console.log(
    `${String(numEntries).padStart(6)} entries | signature ${f(sigMs / numEntries)} ms/prompt (${PROMPT_LEN} tokens)` +
      ` | build ${buildMs.toFixed(1)} ms | query LSH ${f(lshMs / QUERIES)} ms (top-1 ${lshFound}/${QUERIES})` +
      ` | full scan ${f(scanMs / QUERIES)} ms (top-1 ${scanFound}/${QUERIES})`,
  );
}

for (const n of [1000, 10000]) run(n);
