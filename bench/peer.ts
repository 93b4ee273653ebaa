// npm run bench:peer: our engine vs transformers.js (ONNX Runtime Web, WebGPU and wasm) in one headless
// Chromium page on the same adapter (SwiftShader), same model folder, same prompt ids, greedy, EOS
// ignored. Greedy ids are checked equal first; then interleaved rounds with the engine order rotated.
// Prints medians and ratios (ours / theirs; for TTFT theirs / ours, so > 1 means we are faster).
// usage: npm run bench:peer -- [--models stories260K,stories15m] [--rounds 3] [--prompt-tokens 128]
//        [--new-tokens 16] [--json]
// Prerequisites: chromium (Debian), and for stories15m python3-torch + python3-onnx (see README).
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, linkSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { launchBrowser, startPageServer } from '../e2e/harness.ts';
import { mulberry32 } from '../src/util/prng.ts';
import type { PeerApi, PeerEngine, PeerRun } from './peer/api.ts';

const { values } = parseArgs({
  options: {
    models: { type: 'string', default: 'stories260K,stories15m' },
    rounds: { type: 'string', default: '3' },
    'prompt-tokens': { type: 'string', default: '128' },
    'new-tokens': { type: 'string', default: '16' },
    engines: { type: 'string', default: 'kvshare,tjs-webgpu,tjs-wasm' },
    json: { type: 'boolean', default: false },
  },
});
const root = fileURLToPath(new URL('..', import.meta.url));
const peerDir = process.env.KVSHARE_PEER ?? `${root}../shared/peer`;
const modelsDir = `${root}tmp/peer-models`; // served at /models/: hard links to the model files
const rounds = Number(values.rounds);
const promptTokens = Number(values['prompt-tokens']);
const newTokens = Number(values['new-tokens']);
const engines = values.engines.split(',') as PeerEngine[];
const log = (s: string) => {
  if (!values.json) console.log(s);
};

/** The folder of `name`, made on first use for the synthetic stories15M shape (null when it cannot be). */
function modelFolder(name: string): string | null {
  if (name !== 'stories15m')
    return existsSync(`${peerDir}/${name}/onnx/model.onnx`) ? `${peerDir}/${name}` : null;
  const dir = `${root}tmp/peer/stories15m`;
  if (!existsSync(`${dir}/config.json`)) {
    log(`writing ${dir} (random F32 weights, stories15M shape) ...`);
    execFileSync(
      process.execPath,
      [`${root}bin/kvshare.js`, 'synth', '--shape', 'stories15m', '--out', dir, '--dtype', 'F32'],
      { stdio: 'inherit' },
    );
  }
  if (!existsSync(`${dir}/onnx/model.onnx`)) {
    try {
      execFileSync('/usr/bin/python3', ['-c', 'import torch, onnx'], { stdio: 'ignore' });
    } catch {
      console.error(
        'stories15m skipped: its ONNX export needs python3-torch and python3-onnx (apt-get install -y --no-install-recommends python3-torch python3-onnx)',
      );
      return null;
    }
    log('exporting stories15m to ONNX (about a minute) ...');
    execFileSync('/usr/bin/python3', [`${peerDir}/export_llama_onnx.py`, dir], { stdio: 'inherit' });
  }
  return dir;
}

/**
 * Make `to` a tree of hard links (copies across file systems) to the files of `from`: the page server
 * serves no symlink that leads out of its folder.
 */
function mirror(from: string, to: string): void {
  rmSync(to, { recursive: true, force: true });
  mkdirSync(to, { recursive: true });
  for (const f of readdirSync(from)) {
    if (statSync(`${from}/${f}`).isDirectory()) mirror(`${from}/${f}`, `${to}/${f}`);
    else {
      try {
        linkSync(`${from}/${f}`, `${to}/${f}`);
      } catch {
        copyFileSync(`${from}/${f}`, `${to}/${f}`);
      }
    }
  }
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

interface Row {
  model: string;
  engine: PeerEngine;
  loadMs: number;
  ttftMs: number;
  prefillTokensPerSec: number;
  decodeTokensPerSec: number;
  rounds: number;
}

/** The table of `rows` (non-JSON mode), printed after each model so a long run keeps what it measured. */
function printTable(rows: Row[], title: string): void {
  const f = (x: number) => x.toFixed(x < 10 ? 2 : 1).padStart(9);
  console.log(`\n${title}: ${promptTokens}-token prompt, ${newTokens} new tokens, ${rounds} rounds, medians`);
  console.log('model        engine       load ms   TTFT ms  prefill/s  decode/s | TTFT x  decode x');
  for (const r of rows) {
    const us = rows.find((o) => o.model === r.model && o.engine === 'kvshare');
    const ratio = (a: number | undefined) => (a === undefined ? '     -' : a.toFixed(2).padStart(6));
    console.log(
      `${r.model.padEnd(12)} ${r.engine.padEnd(11)} ${f(r.loadMs)} ${f(r.ttftMs)} ${f(r.prefillTokensPerSec)} ${f(r.decodeTokensPerSec)} | ${ratio(us && r.ttftMs / us.ttftMs)}  ${ratio(us && us.decodeTokensPerSec / r.decodeTokensPerSec)}`,
    );
  }
  console.log('TTFT x = their TTFT / ours, decode x = our decode tok/s / theirs (> 1: we are faster)');
}

mkdirSync(modelsDir, { recursive: true });
const models: { name: string; dir: string }[] = [];
for (const name of values.models.split(',')) {
  const dir = modelFolder(name);
  if (!dir) {
    console.error(`${name}: no model folder with onnx/model.onnx, skipped`);
    continue;
  }
  mirror(dir, `${modelsDir}/${name}`);
  models.push({ name, dir });
}
process.env.KVSHARE_ASSETS = modelsDir;
const server = await startPageServer('bench/peer');
const browser = await launchBrowser();
const rows: Row[] = [];
let adapter = '';
try {
  const { page } = browser;
  const ort = `/@fs${root}node_modules/onnxruntime-web/dist/`;
  await page.goto(`${server.origin}/?ort=${encodeURIComponent(ort)}`);
  await page.waitForFunction(() => 'kvsharePeer' in window, null, { timeout: 120_000 });
  type W = { kvsharePeer: PeerApi };
  const load = (e: PeerEngine, model: string) =>
    page.evaluate(([e, model]) => (window as unknown as W).kvsharePeer.load(e, model), [e, model] as const);
  const run = (e: PeerEngine, promptIds: number[]) =>
    page.evaluate(([e, ids, n]) => (window as unknown as W).kvsharePeer.run(e, ids, n), [
      e,
      promptIds,
      newTokens,
    ] as const);
  adapter = await page.evaluate(() => (window as unknown as W).kvsharePeer.adapter());
  log(`adapter: ${adapter}`);
  for (const m of models) {
    const rand = mulberry32(77);
    const vocab = m.name === 'stories15m' ? 32000 : 512;
    const promptIds = [
      1,
      ...Array.from({ length: promptTokens - 1 }, () => 3 + Math.floor(rand() * (vocab - 3))),
    ];
    const loadMs = new Map<PeerEngine, number>();
    for (const e of engines) loadMs.set(e, await load(e, m.name));
    // Same greedy ids first (a warm-up run of each engine).
    const first = new Map<PeerEngine, number[]>();
    for (const e of engines) {
      const r = await run(e, promptIds);
      first.set(e, r.ids);
    }
    const ref = first.get(engines[0])!;
    for (const e of engines.slice(1)) {
      const ids = first.get(e)!;
      const agree = ids.findIndex((t, i) => t !== ref[i]);
      if (agree >= 0 || ids.length !== ref.length) {
        throw new Error(
          `${m.name}: ${e} differs from ${engines[0]} at token ${agree} (${ids.join(',')} vs ${ref.join(',')})`,
        );
      }
    }
    log(`${m.name}: greedy ids equal for ${ref.length} tokens across ${engines.join(', ')}`);
    const runs = new Map<PeerEngine, PeerRun[]>(engines.map((e) => [e, []]));
    for (let r = 0; r < rounds; r++) {
      const order = engines.map((_, i) => engines[(i + r) % engines.length]);
      for (const e of order) {
        runs.get(e)!.push(await run(e, promptIds));
      }
    }
    for (const e of engines) {
      const rs = runs.get(e)!;
      const ttftMs = median(rs.map((x) => x.ttftMs));
      rows.push({
        model: m.name,
        engine: e,
        loadMs: loadMs.get(e)!,
        ttftMs,
        prefillTokensPerSec: promptTokens / (ttftMs / 1000),
        decodeTokensPerSec: median(rs.map((x) => x.decodeTokensPerSec)),
        rounds,
      });
    }
    if (!values.json)
      printTable(
        rows.filter((r) => r.model === m.name),
        m.name,
      );
  }
} finally {
  await browser.close();
  await server.close();
}

if (values.json) console.log(JSON.stringify({ adapter, promptTokens, newTokens, rounds, rows }));
