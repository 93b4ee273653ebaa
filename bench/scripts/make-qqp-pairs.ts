/**
 * Draws a reproducible set of QQP question pairs for the fidelity benchmark.
 *
 *   node --import tsx bench/scripts/make-qqp-pairs.ts [--assets DIR] [--out FILE] [--n 200] [--seed 7]
 *
 * Reads DIR/qqp-gptcache/similiar_qqp.json (not in the repository; default DIR: $KVSHARE_ASSETS, else
 * ../shared/assets next to it), skips pairs with an empty text or a text over 300 characters, samples n
 * with a seeded PRNG and writes
 * {"a": origin, "b": similar} lines to FILE (default bench/pairs/qqp-200.jsonl, which git ignores: the QQP
 * text is for evaluation only and is not committed to this repository).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { formatPairsJsonl, selectQqpPairs } from '../../src/eval/pairs.ts';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

const { values } = parseArgs({
  options: {
    assets: { type: 'string', default: process.env.KVSHARE_ASSETS ?? resolve(repoRoot, '../shared/assets') },
    out: { type: 'string', default: resolve(repoRoot, 'bench/pairs/qqp-200.jsonl') },
    n: { type: 'string', default: '200' },
    seed: { type: 'string', default: '7' },
  },
});

const n = Number(values.n);
const seed = Number(values.seed);
if (!Number.isInteger(n) || n < 1) throw new Error(`--n must be a positive integer, got ${values.n}`);
if (!Number.isInteger(seed)) throw new Error(`--seed must be an integer, got ${values.seed}`);

const source = resolve(values.assets, 'qqp-gptcache/similiar_qqp.json');
const data: unknown = JSON.parse(readFileSync(source, 'utf8'));
const pairs = selectQqpPairs(data, { n, seed, maxChars: 300 });
if (pairs.length < n) console.warn(`only ${pairs.length} eligible pairs, fewer than --n ${n}`);

const out = resolve(values.out);
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, formatPairsJsonl(pairs));
console.log(`wrote ${pairs.length} pairs (seed ${seed}) from ${source} to ${out}`);
