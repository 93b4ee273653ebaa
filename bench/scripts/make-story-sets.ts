/**
 * Writes the harder reuse pair sets (issue 11) from the stories of bench/pairs/stories.jsonl, all
 * TinyStories-style so stories260K knows the language. Deterministic: same input, same files.
 *
 *   node --import tsx bench/scripts/make-story-sets.ts [--out-dir bench/pairs]
 *
 * - edits.jsonl      (24) mid-prompt word edits (even pairs) and two swapped middle sentences (odd pairs);
 * - long.jsonl       (20) four stories joined (~350 tokens: five overflow stories260K's 512-token context
 *                    with 32 new tokens), three words edited in the middle third;
 * - unrelated.jsonl  (24) b is another story than a (common phrases only);
 * - stitched.jsonl   (20) a = [story i, story j], both cached; b = the two joined (every other pair in
 *                    the reverse order, so b's prefix is the second entry's).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { cachedPrompts, formatPairsJsonl, type PromptPair, parsePairsJsonl } from '../../src/eval/pairs.ts';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const { values } = parseArgs({
  options: { 'out-dir': { type: 'string', default: resolve(repoRoot, 'bench/pairs') } },
});
const outDir = values['out-dir'] as string;

const stories = [
  ...new Set(
    parsePairsJsonl(readFileSync(resolve(repoRoot, 'bench/pairs/stories.jsonl'), 'utf8')).flatMap(
      cachedPrompts,
    ),
  ),
];

/** Word swaps used for edits (each direction). */
const SWAPS: [string, string][] = [
  ['Lily', 'Mia'],
  ['Tom', 'Ben'],
  ['ball', 'kite'],
  ['red', 'blue'],
  ['big', 'small'],
  ['dog', 'cat'],
  ['park', 'garden'],
  ['happy', 'sad'],
  ['mom', 'dad'],
  ['tree', 'house'],
  ['girl', 'boy'],
  ['day', 'night'],
  ['toy', 'book'],
  ['friend', 'sister'],
  ['little', 'tiny'],
  ['play', 'jump'],
  ['saw', 'found'],
  ['sun', 'moon'],
];
const SWAP = new Map(SWAPS.flatMap(([x, y]) => [[x, y] as const, [y, x] as const]));

const sentences = (s: string): string[] => s.match(/[^.!?]+[.!?]+["']?\s*/g)?.map((x) => x.trim()) ?? [s];

/** Replace up to `n` swappable words of `text`, starting from its middle; null when none is swappable. */
function editWords(text: string, n: number): string | null {
  const toks = text.split(' ');
  const mid = Math.floor(toks.length / 3);
  const order = [...toks.keys()].slice(mid).concat([...toks.keys()].slice(0, mid));
  let done = 0;
  let last = -9;
  for (const i of order) {
    if (done === n) break;
    const m = /^([A-Za-z]+)(.*)$/.exec(toks[i]);
    const sub = m && SWAP.get(m[1]);
    if (!m || !sub || Math.abs(i - last) < 8) continue; // edits stay apart
    toks[i] = sub + m[2];
    last = i;
    done++;
  }
  return done > 0 ? toks.join(' ') : null;
}

function edits(): PromptPair[] {
  const out: PromptPair[] = [];
  for (const a of stories) {
    if (out.length === 24) break;
    const ss = sentences(a);
    let b: string | null = null;
    if (out.length % 2 === 0) {
      const k = Math.max(1, Math.floor(ss.length / 2));
      const edited = editWords(ss[k], 1);
      if (edited) b = [...ss.slice(0, k), edited, ...ss.slice(k + 1)].join(' ');
    } else if (ss.length >= 4) {
      const k = Math.floor(ss.length / 2) - 1;
      b = [...ss.slice(0, k), ss[k + 1], ss[k], ...ss.slice(k + 2)].join(' ');
    }
    if (b && b !== a) out.push({ a, b });
  }
  return out;
}

function long(): PromptPair[] {
  const out: PromptPair[] = [];
  for (let i = 0; out.length < 20 && i < stories.length; i += 3) {
    const parts = Array.from({ length: 4 }, (_, k) => stories[(i + k) % stories.length]);
    const a = parts.join(' ');
    const third = Math.floor(a.length / 3);
    const edited = editWords(a.slice(third, 2 * third), 3);
    if (edited) out.push({ a, b: a.slice(0, third) + edited + a.slice(2 * third) });
  }
  return out;
}

function unrelated(): PromptPair[] {
  const h = Math.floor(stories.length / 2);
  return Array.from({ length: 24 }, (_, i) => ({ a: stories[i], b: stories[(i * 7 + h) % stories.length] }));
}

function stitched(): PromptPair[] {
  return Array.from({ length: 20 }, (_, i) => {
    const x = stories[(i * 3 + 1) % stories.length];
    const y = stories[(i * 3 + 31) % stories.length];
    return { a: [x, y], b: i % 2 === 0 ? `${x} ${y}` : `${y} ${x}` };
  });
}

for (const [name, pairs] of [
  ['edits', edits()],
  ['long', long()],
  ['unrelated', unrelated()],
  ['stitched', stitched()],
] as const) {
  writeFileSync(resolve(outDir, `${name}.jsonl`), formatPairsJsonl(pairs));
  console.log(`${name}.jsonl: ${pairs.length} pairs`);
}
