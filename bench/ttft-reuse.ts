// TTFT of each reuse mode against a full prefill, in one process: exact repeats, a follow-up chat
// turn, and prompts sharing ~80% of their tokens. One warm-up, then `--reps` rounds whose order of
// modes alternates (forward, then reversed); every figure is a median. `none` runs twice per round
// (`none` and `none²`), so none/none² shows the noise floor (~1.0).
// usage: node --import tsx bench/ttft-reuse.ts --model <dir> [--prompt-tokens 512] [--reusable 0.8]
//        [--follow-up 30] [--reps 3] [--scenarios repeat,repeat-stored,follow-up,similar]
//        [--modes none,prefix,naive,kvshare] (`none` and `none²` always run) [--phases]
// --phases: per mode, the median ms of each phase to the first token (retrieval and alignment, patch,
// the scoring pass with its read-back and ranking, the rows computed, the rest), and for kvshare on
// `similar` what the analytic bound allows each phase (layer 0 + layer-1 Q/K/V of every row: the
// scoring pass; (L−2)/L·f: the computed rows; nothing else).
import { parseArgs } from 'node:util';
import type { ReuseMode } from '../src/engine/prefill.ts';
import type { GenerateResult } from '../src/engine/types.ts';
import type { ModelConfig } from '../src/model/types.ts';
import { createNodeTokenEngine } from '../src/node/index.ts';
import { median } from '../src/util/median.ts';
import { mulberry32 } from '../src/util/prng.ts';

const { values } = parseArgs({
  options: {
    model: { type: 'string' },
    'prompt-tokens': { type: 'string', default: '512' },
    reusable: { type: 'string', default: '0.8' },
    'follow-up': { type: 'string', default: '30' },
    reps: { type: 'string', default: '3' },
    scenarios: { type: 'string', default: 'repeat,repeat-stored,follow-up,similar' },
    modes: { type: 'string', default: 'none,prefix,naive,kvshare' },
    phases: { type: 'boolean', default: false },
  },
});
if (!values.model) throw new Error('--model is required');
const N = Number(values['prompt-tokens']);
const keep = Number(values.reusable);
const followUp = Number(values['follow-up']);
const reps = Number(values.reps);
const ANSWER = 16; // tokens answered by the first turn of the follow-up scenario

const engine = createNodeTokenEngine();
const info = await engine.load(values.model, { contextLength: N + ANSWER + followUp + 8 });
const rand = mulberry32(42);
const eos = new Set(info.config.eosTokenIds);
const tok = () => {
  let t: number;
  do t = 3 + Math.floor(rand() * (Math.min(info.config.vocabSize, 32000) - 3));
  while (eos.has(t));
  return t;
};
const randomTokens = (n: number) => Array.from({ length: n }, tok);
// A: N random tokens (BOS first). B: A with 5 spans rewritten so that about `keep` of B matches A.
const A = [1, ...randomTokens(N - 1)];
const B = [...A];
const spans = 5;
const spanLen = Math.round(((1 - keep) * N) / spans);
for (let s = 0; s < spans; s++) {
  const start = Math.floor(((s + 0.5) * N) / spans) - Math.floor(spanLen / 2);
  for (let i = start; i < start + spanLen; i++) B[i] = tok();
}
const Z = [1, ...randomTokens(24)]; // an unrelated short prompt
const NEW_TURN = randomTokens(followUp);
console.log(`model ${info.location}\nadapter ${info.adapter}\nprompt ${N} tokens, ${reps} rounds`);

const ask = (ids: number[], mode: ReuseMode, maxNewTokens = 1, cachePrompt = false) =>
  engine.generate({ tokenIds: ids }, { maxNewTokens, ignoreEos: true, reuse: { mode }, cachePrompt });

interface Scenario {
  name: string;
  what: string;
  modes: ReuseMode[];
  /** Fill the cache once for every mode (when the timed requests leave it as it was). */
  setup?(): Promise<void>;
  /** Fill the cache for `mode`, then run the timed request. */
  run(mode: ReuseMode): Promise<GenerateResult>;
}
const scenarios: Scenario[] = [
  {
    name: 'repeat',
    what: `exact repeat of a cached ${N}-token prompt (its KV still live)`,
    modes: ['none', 'prefix', 'naive', 'kvshare'],
    run: async (mode) => {
      await engine.cache.clear();
      await engine.cache.add({ tokenIds: A });
      return ask(A, mode);
    },
  },
  {
    name: 'repeat-stored',
    what: `exact repeat of a cached ${N}-token prompt after another prompt ran`,
    modes: ['none', 'prefix', 'naive', 'kvshare'],
    run: async (mode) => {
      await engine.cache.clear();
      await engine.cache.add({ tokenIds: A });
      await engine.cache.add({ tokenIds: Z });
      return ask(A, mode);
    },
  },
  {
    name: 'follow-up',
    what: `follow-up turn: ${N} prompt + ${ANSWER} answer + ${followUp} new tokens`,
    modes: ['none', 'prefix', 'kvshare'],
    run: async (mode) => {
      await engine.cache.clear();
      const first = await ask(A, mode, ANSWER, true);
      return ask([...A, ...first.tokenIds, ...NEW_TURN], mode);
    },
  },
  {
    name: 'similar',
    what: `${N}-token prompt, ${spans} rewritten spans of ${spanLen} (~${Math.round(100 * keep)}% reusable)`,
    modes: ['none', 'prefix', 'naive', 'kvshare'],
    // A is cached (and GPU-resident) once; B is asked without storing it, after an unrelated prompt
    // has replaced the live KV, so every mode finds the same cache.
    setup: async () => {
      await engine.cache.clear();
      await engine.cache.add({ tokenIds: A });
    },
    run: async (mode) => {
      await ask(Z, 'none');
      return ask(B, mode);
    },
  },
];

/** Cost share of layer 1's Q/K/V projections in a whole row's forward pass (matmul FLOPs). */
function qkvShare(c: ModelConfig): number {
  const qDim = c.numHeads * c.headDim;
  const kvDim = c.numKvHeads * c.headDim;
  const qkv = c.hiddenSize * (qDim + 2 * kvDim);
  const layer = qkv + qDim * c.hiddenSize + 3 * c.hiddenSize * c.intermediateSize;
  return qkv / (c.numLayers * layer + (c.hiddenSize * c.vocabSize) / N);
}

/** The analytic bound 1 / (1/L + q + (L−2)/L · f) for a request's reuse figures. */
function boundOf(u: GenerateResult['reuse']) {
  const L = info.config.numLayers;
  const q = qkvShare(info.config);
  const f = u.recomputedTokens / u.promptTokens;
  return { bound: 1 / (1 / L + q + ((L - 2) / L) * f), L, q, f };
}

/** Median ms per phase of each mode; for kvshare on `similar`, what the bound allows each phase. */
function printPhases(name: string, runs: string[], results: Map<string, GenerateResult[]>, none: number) {
  const phases: [string, (r: GenerateResult) => number][] = [
    ['retrieval', (r) => r.reuse.retrievalMs],
    ['patch', (r) => r.reuse.patchMs],
    ['score', (r) => r.reuse.scoreMs],
    ['compute', (r) => r.reuse.computeMs],
    [
      'other',
      (r) => r.stats.ttftMs - r.reuse.retrievalMs - r.reuse.patchMs - r.reuse.scoreMs - r.reuse.computeMs,
    ],
  ];
  console.log(`phases (median ms): mode ${phases.map(([p]) => p.padStart(9)).join(' ')}`);
  for (const m of runs) {
    const rs = results.get(m)!;
    console.log(
      `  ${m.padEnd(8)} ${phases.map(([, get]) => median(rs.map(get)).toFixed(1).padStart(9)).join(' ')}`,
    );
  }
  if (name !== 'similar' || !results.has('kvshare')) return;
  const { L, q, f } = boundOf(results.get('kvshare')!.at(-1)!.reuse);
  const allowed = [0, 0, none * (1 / L + q), none * ((L - 2) / L) * f, 0];
  console.log(`  ${'bound'.padEnd(8)} ${allowed.map((x) => x.toFixed(1).padStart(9)).join(' ')}`);
}

// Warm-up: compile every pipeline (prefill, decode, scoring, patch) on a short prompt.
await engine.cache.add({ tokenIds: A.slice(0, 40) });
await ask(B.slice(0, 40), 'kvshare', 2);
await ask(B.slice(0, 40), 'none', 2);

const wanted = new Set(values.scenarios.split(','));
const modes = new Set(values.modes.split(','));
for (const sc of scenarios.filter((s) => wanted.has(s.name))) {
  console.log(`\n${sc.name}: ${sc.what}`);
  const runs = [...sc.modes.filter((m) => m === 'none' || modes.has(m)), 'none²' as const];
  const results = new Map<string, GenerateResult[]>(runs.map((m) => [m, []]));
  await sc.setup?.();
  for (let r = 0; r < reps; r++) {
    for (const m of r % 2 === 0 ? runs : [...runs].reverse()) {
      results.get(m)!.push(await sc.run(m === 'none²' ? 'none' : m));
    }
  }
  const ttft = new Map([...results].map(([m, rs]) => [m, rs.map((x) => x.stats.ttftMs)]));
  const last = new Map([...results].map(([m, rs]) => [m, rs[rs.length - 1]]));
  const none = median(ttft.get('none')!);
  console.log('mode       ttft ms  none/mode  reused  computed  retrieval  patch  score');
  for (const m of runs) {
    const t = median(ttft.get(m)!);
    const u = last.get(m)!.reuse;
    const row = [
      m.padEnd(8),
      t.toFixed(1).padStart(9),
      (none / t).toFixed(2).padStart(10),
      String(u.reusedTokens).padStart(7),
      String(u.recomputedTokens).padStart(9),
      u.retrievalMs.toFixed(1).padStart(10),
      u.patchMs.toFixed(1).padStart(6),
      u.scoreMs.toFixed(1).padStart(6),
    ];
    let note = '';
    if (sc.name === 'similar' && m === 'kvshare') {
      const { bound, f } = boundOf(u);
      note = `  bound ${bound.toFixed(2)} (f ${f.toFixed(3)}): ${((100 * none) / t / bound).toFixed(0)}% of it`;
    }
    console.log(row.join(' ') + note);
  }
  if (values.phases) printPhases(sc.name, runs, results, none);
}
await engine.unload();
process.exit(0);
