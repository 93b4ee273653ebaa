// Documents served from a static host and fetched by the byte on a hit (issue 25): `kvshare pack build`
// writes a v2 pack of 8 documents (four stories each, ~350 tokens) for a stories15M-shaped model (random weights,
// `kvshare synth --shape stories15m`, its max_position_embeddings raised to 2048 so a ~1,000-token
// prompt fits; RoPE needs no trained weights); a local Node http server with Range support logs every
// request; an engine mounts the pack and answers a question over 3 of the documents (~1,000 tokens).
// Prints the requests and bytes fetched, then TTFT of mode none against kvshare in interleaved rounds
// (an unrelated prompt runs before every timed one, so no rows stay in place from the previous run).
// usage: node --import tsx bench/mount-docs.ts [--rounds 5] [--keep <dir>] [--json]
import { spawnSync } from 'node:child_process';
import { createReadStream, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createNodeTokenEngine } from '../src/node/index.ts';
import { median } from '../src/util/median.ts';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '5' },
    keep: { type: 'string' },
    json: { type: 'boolean', default: false },
  },
});
const root = resolve(fileURLToPath(new URL('..', import.meta.url)));
const bin = join(root, 'bin/kvshare.js');
const dir = values.keep ?? join(tmpdir(), `kvshare-mount-bench-${process.pid}`);
mkdirSync(dir, { recursive: true });
const model = join(dir, 'stories15m');
const log = (s: string) => process.stderr.write(`${s}\n`);

function cli(...args: string[]): string {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`kvshare ${args.join(' ')} failed:\n${r.stderr}`);
  return r.stdout;
}

// 1. The model and the documents (8, each four stories of bench/pairs/stories.jsonl).
if (!existsSync(join(model, 'config.json'))) {
  cli('synth', '--shape', 'stories15m', '--out', model);
  const cfgPath = join(model, 'config.json');
  const cfg = JSON.parse(readFileSync(cfgPath, 'utf8'));
  cfg.max_position_embeddings = 2048;
  writeFileSync(cfgPath, JSON.stringify(cfg, null, 2));
}
const stories = readFileSync(join(root, 'bench/pairs/stories.jsonl'), 'utf8')
  .split('\n')
  .filter((l) => l.trim())
  .map((l) => (JSON.parse(l) as { a: string }).a);
const docs = Array.from({ length: 8 }, (_, d) => ({
  id: `doc${d}`,
  text: stories.slice(d * 4, d * 4 + 4).join(' '),
}));
writeFileSync(join(dir, 'docs.jsonl'), docs.map((d) => JSON.stringify(d)).join('\n'));

// 2. The pack, built by the CLI.
const built = JSON.parse(
  cli(
    'pack',
    'build',
    '--model',
    model,
    '--docs',
    join(dir, 'docs.jsonl'),
    '--out',
    join(dir, 'site.kvpack'),
    '--context',
    '2048',
    '--json',
  ),
) as { bytes: number; indexBytes: number; integrity: string; entryBytes: Record<string, number> };
log(`pack: ${built.bytes} bytes, index ${built.indexBytes}`);

// 3. A static server with single-range support that logs every request.
const requests: { range: string | null; status: number; bytes: number }[] = [];
const packPath = join(dir, 'site.kvpack');
const server = createServer((req, res) => {
  const size = statSync(packPath).size;
  const range = typeof req.headers.range === 'string' ? req.headers.range : null;
  const m = range ? /^bytes=(\d+)-(\d*)$/.exec(range) : null;
  let start = 0;
  let end = size;
  if (m) {
    start = Number(m[1]);
    end = m[2] === '' ? size : Math.min(size, Number(m[2]) + 1);
  }
  const headers: Record<string, string> = { 'Content-Length': String(end - start), 'Accept-Ranges': 'bytes' };
  if (m) headers['Content-Range'] = `bytes ${start}-${end - 1}/${size}`;
  res.writeHead(m ? 206 : 200, headers);
  requests.push({ range, status: m ? 206 : 200, bytes: end - start });
  createReadStream(packPath, { start, end: end - 1 }).pipe(res);
});
await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/site.kvpack`;

// 4. Mount, ask over 3 documents.
const engine = createNodeTokenEngine();
await engine.load(model, { contextLength: 2048 });
const question = 'What happened in the end, and who helped?';
const asked = ['doc5', 'doc1', 'doc6'];
const byId = new Map(docs.map((d) => [d.id, d.text]));
const prompt = (order: string[]) => `${order.map((id) => byId.get(id)).join(' ')} ${question}`;
const flush = () =>
  engine.generate('Hello there.', { maxNewTokens: 1, cachePrompt: false, reuse: { mode: 'none' } });
// Warm-up: compile every pipeline and time the device (the cost model's rate) on another prompt.
await engine.generate(prompt(['doc0', 'doc2', 'doc3']), {
  maxNewTokens: 1,
  cachePrompt: false,
  reuse: { mode: 'none' },
});
await flush();

const mounted = await engine.cache.mount(url, { integrity: built.integrity });
const first = await engine.generate(prompt(asked), {
  maxNewTokens: 1,
  cachePrompt: false,
  reuse: { mode: 'kvshare' },
});
const stats = engine.cache.stats();
const entryBytes = asked.reduce((s, id) => s + built.entryBytes[id], 0);

// 5. Interleaved rounds: none and kvshare on the same prompt, order alternating per round.
const rounds = Number(values.rounds);
const t: Record<'none' | 'kvshare', number[]> = { none: [], kvshare: [] };
const orders = [asked, [asked[1], asked[2], asked[0]], [asked[2], asked[0], asked[1]]];
for (let r = 0; r < rounds; r++) {
  const p = prompt(orders[r % orders.length]);
  const modes = r % 2 === 0 ? (['none', 'kvshare'] as const) : (['kvshare', 'none'] as const);
  for (const mode of modes) {
    await flush();
    const g = await engine.generate(p, { maxNewTokens: 1, cachePrompt: false, reuse: { mode } });
    t[mode].push(g.stats.ttftMs);
    if (mode === 'kvshare' && r === 0)
      log(`kvshare: reused ${g.reuse.reusedTokens}/${g.reuse.promptTokens}, path ${g.reuse.path}`);
  }
  log(
    `round ${r + 1}/${rounds}: none ${t.none.at(-1)?.toFixed(0)} ms, kvshare ${t.kvshare.at(-1)?.toFixed(0)} ms`,
  );
}
const adapter = engine.info?.adapter;
await engine.unload();
server.close();

const report = {
  adapter,
  promptTokens: first.reuse.promptTokens,
  mounted,
  requests,
  fetchedBytes: stats.mountFetchedBytes,
  indexBytes: built.indexBytes,
  askedEntryBytes: entryBytes,
  bytesRatio: (stats.mountFetchedBytes - built.indexBytes) / entryBytes,
  firstHit: {
    ttftMs: first.stats.ttftMs,
    entryIds: first.reuse.entryIds,
    reused: first.reuse.reusedTokens,
    path: first.reuse.path,
  },
  noneMs: median(t.none),
  kvshareMs: median(t.kvshare),
  speedup: median(t.none) / median(t.kvshare),
  rounds: t,
};
if (values.json) console.log(JSON.stringify(report));
else {
  console.log(
    `prompt ${report.promptTokens} tokens; requests: ${requests.map((r) => `${r.range ?? 'whole'} (${r.bytes} B)`).join(', ')}`,
  );
  console.log(
    `fetched ${report.fetchedBytes} B = index ${report.indexBytes} + ${report.fetchedBytes - report.indexBytes} (the 3 entries: ${entryBytes} B)`,
  );
  console.log(
    `first hit (fetching 3 entries): TTFT ${first.stats.ttftMs.toFixed(0)} ms, entries ${first.reuse.entryIds.join(',')}`,
  );
  console.log(
    `median TTFT over ${rounds} rounds: none ${report.noneMs.toFixed(0)} ms, kvshare ${report.kvshareMs.toFixed(0)} ms, none/kvshare ${report.speedup.toFixed(2)}×`,
  );
}
