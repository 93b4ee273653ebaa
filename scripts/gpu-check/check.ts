// `check`: runs every part of the GPU check in a child process of its own with a time budget (a part
// that crashes, hangs or runs out of time is recorded and the rest still run), and writes
// report.json and report.txt to the output folder after each part.
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { runNode, tail } from './parts/child.ts';
import type { PartData } from './parts/types.ts';
import { formatReport, type PartReport, type Report } from './report.ts';

/**
 * The parts in the order they run, with their budgets in seconds: on a GPU (~8 min in all, under the
 * device's 10-minute command limit) and in the rehearsal, where the budgets are generous (a software
 * adapter compiling pipelines on two busy cores varies 3x; the rehearsal usually takes 1-2.5 min).
 */
const PARTS: { name: string; title: string; full: number; dry: number }[] = [
  { name: 'adapter', title: 'adapter, features, limits, copy bandwidth', full: 25, dry: 60 },
  { name: 'kernels', title: 'every kernel variant vs the TypeScript reference', full: 90, dry: 240 },
  { name: 'golden', title: 'stories260K golden outputs, KV reuse answers', full: 40, dry: 120 },
  { name: 'bench', title: 'bench: prefill / decode tok/s, profile, weight GB/s', full: 240, dry: 180 },
  { name: 'ttft', title: 'reuse TTFT table', full: 90, dry: 120 },
];

export async function check(argv: string[], self: string): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      'dry-run': { type: 'boolean', default: false },
      out: { type: 'string', default: process.env.OUT || 'gpu-out' },
      assets: { type: 'string' },
      work: { type: 'string' },
      only: { type: 'string' },
      manifest: { type: 'string' },
    },
  });
  const dryRun = values['dry-run'];
  const out = values.out;
  const work = values.work ?? join(tmpdir(), 'kvshare-gpu-check'); // never under out: only reports come back
  if (!values.assets) throw new Error('--assets is required');
  mkdirSync(`${work}/results`, { recursive: true });
  const only = values.only ? new Set(values.only.split(',')) : null;
  const t0 = performance.now();
  const report: Report = {
    mode: dryRun ? 'dry-run' : 'gpu',
    startedAt: new Date().toISOString(),
    kit: values.manifest ? JSON.parse(readFileSync(values.manifest, 'utf8')) : { source: 'unbundled' },
    node: process.version,
    pass: false,
    totalMs: 0,
    parts: [],
  };
  const write = () => {
    report.totalMs = Math.round(performance.now() - t0);
    report.pass = report.parts.length > 0 && report.parts.every((p) => p.status === 'pass');
    writeAtomic(`${out}/report.json`, `${JSON.stringify(report, null, 1)}\n`);
    writeAtomic(`${out}/report.txt`, formatReport(report));
  };
  for (const part of PARTS) {
    if (only && !only.has(part.name)) continue;
    const budgetMs =
      1000 * (dryRun ? part.dry : part.full) * Number(process.env.KVSHARE_KIT_BUDGET_SCALE ?? 1);
    const result = `${work}/results/${part.name}.json`;
    writeFileSync(result, 'null');
    console.log(`\n== ${part.name}: ${part.title} (budget ${budgetMs / 1000} s)`);
    const args = ['part', part.name, '--result', result, '--assets', values.assets, '--work', work];
    args.push('--budget-ms', String(budgetMs), ...(dryRun ? ['--dry-run'] : []));
    // The child gets 5 s more than its budget to write what it has before it is killed.
    const r = await runNode(self, args, budgetMs + 5000, { group: true });
    const data = readResult(result);
    const status: PartReport['status'] = r.timedOut
      ? 'timeout'
      : r.code !== 0
        ? 'crashed'
        : data?.pass
          ? 'pass'
          : 'fail';
    const entry: PartReport = { name: part.name, title: part.title, status, ms: r.ms, budgetMs, data };
    if (status !== 'pass') entry.log = tail(`${r.stdout}\n${r.stderr}`, 20);
    report.parts.push(entry);
    console.log(`== ${part.name}: ${status} in ${(r.ms / 1000).toFixed(1)} s`);
    write();
  }
  write();
  console.log(`\n${formatReport(report)}`);
  return report.pass ? 0 : 1;
}

function readResult(path: string): PartData | null {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as PartData | null;
  } catch {
    return null;
  }
}

export function writeAtomic(path: string, text: string): void {
  writeFileSync(`${path}.tmp`, text);
  renameSync(`${path}.tmp`, path);
}
