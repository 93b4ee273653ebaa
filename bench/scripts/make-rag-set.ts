/**
 * Writes bench/pairs/rag.jsonl: retrieval-augmented prompts over cached chunks (issue 25). Each pair
 * caches 3–5 stories of bench/pairs/stories.jsonl as separate entries (the chunks), and asks for them in
 * a shuffled order followed by a question, so every chunk but the first sits after text it was not
 * computed with (the cross-chunk case of CacheBlend). Deterministic: same input, same file.
 *
 *   node --import tsx bench/scripts/make-rag-set.ts [--out-dir bench/pairs] [--pairs 24]
 *
 * Chunks are joined with a space: with stories260K's SentencePiece tokenizer a chunk then tokenizes the
 * same in the prompt as on its own (after its BOS).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { cachedPrompts, formatPairsJsonl, type PromptPair, parsePairsJsonl } from '../../src/eval/pairs.ts';
import { mulberry32 } from '../../src/util/prng.ts';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const { values } = parseArgs({
  options: {
    'out-dir': { type: 'string', default: resolve(repoRoot, 'bench/pairs') },
    pairs: { type: 'string', default: '24' },
  },
});

const stories = [
  ...new Set(
    parsePairsJsonl(readFileSync(resolve(repoRoot, 'bench/pairs/stories.jsonl'), 'utf8')).flatMap(
      cachedPrompts,
    ),
  ),
];

const QUESTIONS = [
  'What happened in the end?',
  'Who was the happiest in these stories?',
  'Then one day, something new happened.',
  'What did they learn?',
  'Which friend was the kindest, and why?',
  'The next morning,',
];

function shuffle<T>(xs: T[], rng: () => number): T[] {
  const out = [...xs];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

function rag(n: number): PromptPair[] {
  const rng = mulberry32(25);
  const out: PromptPair[] = [];
  for (let p = 0; p < n; p++) {
    const k = 3 + (p % 3); // 3, 4, 5 chunks
    const chunks = shuffle(stories, rng).slice(0, k);
    let order = shuffle(chunks, rng);
    // Never the caching order: the prompt's chunk order is always new.
    if (order.every((c, i) => c === chunks[i])) order = [...order.slice(1), order[0]];
    out.push({ a: chunks, b: `${order.join(' ')} ${QUESTIONS[p % QUESTIONS.length]}` });
  }
  return out;
}

const file = resolve(values['out-dir'] as string, 'rag.jsonl');
writeFileSync(file, formatPairsJsonl(rag(Number(values.pairs))));
console.log(`wrote ${file}`);
