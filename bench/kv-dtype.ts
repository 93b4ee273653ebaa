// K/V storage types side by side, one engine per dtype in one process: bytes per cached token (the
// entry payload / tokens, the hot tier's and the memory tier's bytes per token, the live GPU cache at
// --context), and the TTFT of an exact repeat of a stored --prompt-tokens entry: cached, then pushed
// out of the live cache by another prompt, with no GPU hot tier (gpuCacheBudgetBytes 0), so its K/V
// come from host memory (as from IndexedDB or a pack: uploaded rows, patched). Rounds alternate the
// dtype order; ratios against the first dtype come from the same run; every figure is a median.
// usage: node --import tsx bench/kv-dtype.ts --model <dir> [--kv f32,f16] [--prompt-tokens 512]
//        [--context 2048] [--reps 5] [--mode prefix|kvshare]
import { parseArgs } from 'node:util';
import type { ModelInfo } from '../src/api/model.ts';
import type { ReuseMode } from '../src/engine/prefill.ts';
import { createNodeTokenEngine } from '../src/node/index.ts';
import { encodeEntry } from '../src/store/codec.ts';
import { checkKVDtype, type KVDtype } from '../src/util/kv-dtype.ts';
import { median } from '../src/util/median.ts';
import { mulberry32 } from '../src/util/prng.ts';

const { values } = parseArgs({
  options: {
    model: { type: 'string' },
    kv: { type: 'string', default: 'f32,f16' },
    'prompt-tokens': { type: 'string', default: '512' },
    context: { type: 'string', default: '2048' },
    reps: { type: 'string', default: '5' },
    mode: { type: 'string', default: 'kvshare' },
  },
});
if (!values.model) throw new Error('--model is required');
const N = Number(values['prompt-tokens']);
const reps = Number(values.reps);
const mode = values.mode as ReuseMode;
const dtypes = values.kv.split(',').map((d) => {
  checkKVDtype(d, '--kv');
  return d;
});

interface Run {
  kvDtype: KVDtype;
  engine: ReturnType<typeof createNodeTokenEngine>;
  info: ModelInfo;
  ttft: number[];
}
const runs: Run[] = [];
for (const kvDtype of dtypes) {
  const engine = createNodeTokenEngine();
  const info = await engine.load(values.model, {
    contextLength: Number(values.context),
    kvDtype,
    gpuCacheBudgetBytes: 0,
  });
  runs.push({ kvDtype, engine, info, ttft: [] });
}
const { info } = runs[0];
const rand = mulberry32(42);
const tok = () => 3 + Math.floor(rand() * (Math.min(info.config.vocabSize, 32000) - 3));
const A = [1, ...Array.from({ length: N - 1 }, tok)];
const Z = [1, ...Array.from({ length: 24 }, tok)];
const c = info.config;
console.log(
  `model ${info.location} (L ${c.numLayers}, kvDim ${c.numKvHeads * c.headDim})\nadapter ${info.adapter}`,
);

console.log(`\nbytes per cached token (${N}-token entry); ratio against ${dtypes[0]}`);
console.log('kv    payload/token  ratio  memory/token  live GPU cache (ctx)   ratio');
const base: { payload: number; live: number }[] = [];
for (const r of runs) {
  await r.engine.cache.clear();
  const meta = await r.engine.cache.add({ tokenIds: A });
  const entry = (await r.engine.cache.get(meta.id))!;
  const payload = encodeEntry(entry).length / N;
  const s = await r.engine.cache.stats();
  base.push({ payload, live: s.gpuLiveBytes });
  const b = base[0];
  console.log(
    `${r.kvDtype}  ${payload.toFixed(0).padStart(13)}  ${(payload / b.payload).toFixed(3)}  ${(s.bytes / N).toFixed(0).padStart(12)}  ${String(s.gpuLiveBytes).padStart(12)} (${r.info.contextLength})  ${(s.gpuLiveBytes / b.live).toFixed(3)}`,
  );
}

const ask = (r: Run, ids: number[], m: ReuseMode) =>
  r.engine.generate(
    { tokenIds: ids },
    { maxNewTokens: 1, ignoreEos: true, reuse: { mode: m }, cachePrompt: false },
  );
for (const r of runs) {
  await ask(r, Z, 'none'); // warm-up: compile every pipeline (prefill, patch, scoring)
  await ask(r, A, mode);
  await ask(r, A, 'none');
}
const none = new Map(runs.map((r) => [r.kvDtype, [] as number[]]));
for (let i = 0; i < reps; i++) {
  for (const r of i % 2 === 0 ? runs : [...runs].reverse()) {
    await ask(r, Z, 'none'); // the live cache now holds Z; A's entry is in host memory only
    const res = await ask(r, A, mode);
    if (res.reuse.reusedTokens < N - 1)
      throw new Error(`${r.kvDtype}: reused ${res.reuse.reusedTokens} of ${N}`);
    r.ttft.push(res.stats.ttftMs);
    none.get(r.kvDtype)!.push((await ask(r, A, 'none')).stats.ttftMs);
  }
}
console.log(`\nexact repeat of the stored ${N}-token entry (mode ${mode}, no GPU hot tier), ${reps} rounds`);
console.log('kv    ttft ms  ratio  full prefill ms');
const t0 = median(runs[0].ttft);
for (const r of runs) {
  const t = median(r.ttft);
  console.log(
    `${r.kvDtype}  ${t.toFixed(1).padStart(7)}  ${(t / t0).toFixed(2)}  ${median(none.get(r.kvDtype)!).toFixed(1).padStart(15)}`,
  );
}
for (const r of runs) await r.engine.unload();
process.exit(0);
