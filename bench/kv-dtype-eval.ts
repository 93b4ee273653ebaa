// Whose reference does eval-reuse's identical-answer rate compare with? `eval-reuse --kv-dtype X`
// compares the kvshare answers of an engine storing K/V as X with that same engine's full compute
// (mode none), so each dtype is judged against its own reference. This runs the story pairs once per
// dtype (greedy, one engine per dtype, same prompts as eval-reuse) and counts, per dtype: kvshare
// answers identical to its own full compute, kvshare answers identical to f32's full compute, full
// compute identical to f32's full compute, and the ROUGE-L of the kvshare answers against each
// reference. Pairs where only one dtype's kvshare answer differs are listed.
// usage: node --import tsx bench/kv-dtype-eval.ts --model <dir> [--pairs bench/pairs/stories.jsonl]
//        [--kv f32,f16,q8] [--max-new-tokens 32] [--recompute-ratio 0.15]
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { exactAgreement, rougeL, words } from '../src/eval/metrics.ts';
import { cachedPrompts, parsePairsJsonl } from '../src/eval/pairs.ts';
import { createNodeTokenEngine } from '../src/node/index.ts';
import { checkKVDtype, type KVDtype } from '../src/util/kv-dtype.ts';

const { values } = parseArgs({
  options: {
    model: { type: 'string' },
    pairs: { type: 'string', default: 'bench/pairs/stories.jsonl' },
    kv: { type: 'string', default: 'f32,f16,q8' },
    'max-new-tokens': { type: 'string', default: '32' },
    'recompute-ratio': { type: 'string', default: '0.15' },
  },
});
if (!values.model) throw new Error('--model is required');
const dtypes = values.kv.split(',').map((d) => {
  checkKVDtype(d, '--kv');
  return d;
});
if (dtypes[0] !== 'f32') throw new Error('--kv must start with f32 (the common reference)');
const pairs = parsePairsJsonl(readFileSync(values.pairs, 'utf8'));
const maxNewTokens = Number(values['max-new-tokens']);
const recomputeRatio = Number(values['recompute-ratio']);

interface Answers {
  none: { ids: number[]; text: string }[]; // [pair]
  kvshare: { ids: number[]; text: string }[];
}
const all = new Map<KVDtype, Answers>();
for (const kvDtype of dtypes) {
  const engine = createNodeTokenEngine();
  await engine.load(values.model, { kvDtype });
  const ans: Answers = { none: [], kvshare: [] };
  for (const [i, p] of pairs.entries()) {
    process.stderr.write(`\r${kvDtype} pair ${i + 1}/${pairs.length}`);
    const ask = async (mode: 'none' | 'kvshare') => {
      const r = await engine.generate(p.b, {
        maxNewTokens,
        temperature: 0,
        cachePrompt: false,
        reuse: { mode, recomputeRatio },
      });
      return { ids: Array.from(r.tokenIds), text: r.text };
    };
    await engine.cache.clear();
    ans.none.push(await ask('none'));
    for (const a of cachedPrompts(p)) await engine.cache.add(a);
    ans.kvshare.push(await ask('kvshare'));
  }
  process.stderr.write('\n');
  all.set(kvDtype, ans);
  await engine.unload();
}

const f32 = all.get('f32')!;
const same = (a: { ids: number[] }, b: { ids: number[] }) => exactAgreement(a.ids, b.ids) === 1;
const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
console.log(
  `${pairs.length} pairs, ${maxNewTokens} new tokens, kvshare at recompute ratio ${recomputeRatio}`,
);
console.log('kv    kvshare=own none  kvshare=f32 none  none=f32 none  rougeL(own)  rougeL(f32 none)');
for (const d of dtypes) {
  const a = all.get(d)!;
  const n = pairs.length;
  const own = a.kvshare.filter((k, i) => same(k, a.none[i])).length;
  const vsF32 = a.kvshare.filter((k, i) => same(k, f32.none[i])).length;
  const noneSame = a.none.filter((x, i) => same(x, f32.none[i])).length;
  const rOwn = mean(a.kvshare.map((k, i) => rougeL(words(k.text), words(a.none[i].text))));
  const rF32 = mean(a.kvshare.map((k, i) => rougeL(words(k.text), words(f32.none[i].text))));
  console.log(
    `${d}   ${(own / n).toFixed(3)} (${own})     ${(vsF32 / n).toFixed(3)} (${vsF32})    ${(noneSame / n).toFixed(3)} (${noneSame})   ${rOwn.toFixed(3)}        ${rF32.toFixed(3)}`,
  );
}
console.log('\npairs whose kvshare answer differs from its own full compute, by dtype:');
for (const d of dtypes) {
  const a = all.get(d)!;
  const diff = a.kvshare.flatMap((k, i) => (same(k, a.none[i]) ? [] : [i]));
  console.log(`${d}: ${diff.join(', ') || 'none'}`);
}
process.exit(0);
