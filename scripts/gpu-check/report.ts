// report.txt: the text summary of report.json (docs/GPU-CHECK.md shows one).
import type { KernelResult } from './kernels/common.ts';
import { nominalPeak } from './parts/adapter.ts';
import type { BenchRow } from './parts/bench.ts';
import type { TtftTable } from './parts/ttft.ts';
import type { PartData } from './parts/types.ts';

export interface PartReport {
  name: string;
  title: string;
  status: 'pass' | 'fail' | 'timeout' | 'crashed';
  ms: number;
  budgetMs: number;
  /** What the part saved (null: nothing, e.g. it crashed before its first result). */
  data: PartData | null;
  /** The last lines the part printed, when it did not pass. */
  log?: string;
}

export interface Report {
  mode: 'gpu' | 'dry-run';
  startedAt: string;
  kit: Record<string, unknown>;
  node: string;
  pass: boolean;
  totalMs: number;
  parts: PartReport[];
}

const num = (x: unknown, digits = 1) => (typeof x === 'number' ? x.toFixed(digits) : '-');
/** A number in short exponent form; null (JSON's Infinity / NaN) as 'inf'. */
const exp = (x: number | null) =>
  x === null || !Number.isFinite(x) ? 'inf' : x === 0 ? '0' : x.toExponential(1);
const fixed = (x: number | null, digits: number) =>
  x === null || !Number.isFinite(x) ? 'inf' : x.toFixed(digits);

export function formatReport(r: Report): string {
  const lines: string[] = [];
  const part = (name: string) =>
    r.parts.find((p) => p.name === name)?.data as Record<string, unknown> | undefined;
  lines.push(
    `KVShare-Web GPU check (${r.mode === 'gpu' ? 'GPU' : 'dry run on a software adapter'}): ${r.pass ? 'PASS' : 'FAIL'}`,
    `started ${r.startedAt}, ${(r.totalMs / 1000).toFixed(0)} s; kit ${String(r.kit.commit ?? r.kit.source ?? '?')}; node ${r.node}`,
  );
  const a = part('adapter');
  let peak: number | null = null;
  if (a) {
    const sel = a.selection as Record<string, unknown>;
    const info = a.info as Record<string, unknown>;
    const bw = a.copyBandwidth as { mib: number; gbps: number } | undefined;
    const nominal = nominalPeak(String(a.name));
    peak = nominal?.gbps ?? null;
    lines.push(
      '',
      `adapter   ${a.name}`,
      `features  shader-f16 ${a.shaderF16 ? 'yes' : 'no'} · timestamp-query ${a.timestampQuery ? 'yes' : 'no'} · subgroups ${a.subgroups ? `${info.subgroupMinSize}..${info.subgroupMaxSize}` : 'no'}`,
      `selection ${sel.software ? 'software adapter' : 'GPU'}: GEMV split ${sel.gemvSplit}, GEMM ${sel.gemm}, attention ${sel.attention}`,
      `memory    copy ${bw ? `${bw.gbps} GB/s (${bw.mib} MiB buffers)` : '-'}; nominal ${nominal ? `${nominal.gbps} GB/s (${nominal.of})` : 'unknown for this adapter'}`,
    );
  }
  lines.push('', 'part      status    time s / budget s');
  for (const p of r.parts) {
    lines.push(
      `${p.name.padEnd(9)} ${p.status.padEnd(9)} ${(p.ms / 1000).toFixed(1).padStart(6)} / ${p.budgetMs / 1000}`,
    );
  }
  kernelLines(lines, part('kernels'));
  goldenLines(lines, part('golden'));
  benchLines(lines, part('bench'), peak);
  const t = part('ttft');
  for (const table of (t?.tables as TtftTable[] | undefined) ?? []) {
    lines.push(
      '',
      `TTFT with reuse: ${table.model} (random weights), ${table.promptTokens}-token prompts: ${table.status}`,
    );
    if (table.error) lines.push(`  ${table.error.replace(/\n/g, '\n  ')}`);
    for (const l of table.text.split('\n')) if (l && !l.startsWith('model ')) lines.push(`  ${l}`);
  }
  for (const p of r.parts) {
    if (p.log)
      lines.push('', `${p.name} (${p.status}), last output:`, ...p.log.split('\n').map((l) => `  ${l}`));
  }
  return `${lines.join('\n')}\n`;
}

/** One line per kernel and variant: shapes run, the worst max |error| and tolerance ratio. */
function kernelLines(lines: string[], k: Record<string, unknown> | undefined): void {
  if (!k) return;
  const results = k.results as KernelResult[];
  lines.push(
    '',
    `kernels: ${k.checked} runs, ${k.failed} outside tolerance (max |error| against test/reference; * = what this adapter selects)`,
    '  kernel                                 variant                 runs  max|err|  tol ratio',
  );
  const groups = new Map<string, KernelResult[]>();
  for (const x of results) {
    const key = `${x.kernel}\u0000${x.variant}`;
    groups.set(key, [...(groups.get(key) ?? []), x]);
  }
  for (const g of groups.values()) {
    const worst = Math.max(...g.map((x) => x.maxAbsErr ?? Infinity));
    const ratio = Math.max(...g.map((x) => x.tolRatio ?? Infinity));
    const sel = g.some((x) => x.selected) ? '*' : ' ';
    const bad = g.some((x) => !x.pass) ? '  FAIL' : '';
    lines.push(
      `${sel} ${g[0].kernel.padEnd(38)} ${g[0].variant.padEnd(23)} ${String(g.length).padStart(4)}  ${exp(worst).padStart(8)}  ${fixed(ratio, 3).padStart(9)}${bad}`,
    );
  }
  for (const x of results.filter((r) => !r.pass)) {
    lines.push(
      `  FAIL ${x.kernel} / ${x.variant} / ${x.shape}: max|err| ${exp(x.maxAbsErr)}, ratio ${fixed(x.tolRatio, 2)}`,
    );
  }
}

function goldenLines(lines: string[], g: Record<string, unknown> | undefined): void {
  if (!g) return;
  const eq = (x: unknown) => {
    const v = x as { equal: boolean; agreeing: number; of: number } | undefined;
    return v ? (v.equal ? 'equal' : `DIFFERS after ${v.agreeing} of ${v.of}`) : '-';
  };
  lines.push(
    '',
    `golden (stories260K): logits max |err| ${exp(Number(g.logitsMaxAbsErr))} (< 1e-4) · greedy 64 after the prompt ${eq(g.greedy64)} · greedy 256 from BOS ${eq(g.greedy256)}`,
  );
  for (const c of (g.reuse as Record<string, unknown>[] | undefined) ?? []) {
    lines.push(
      `reuse ${String(c.name).padEnd(14)} reused ${c.reusedTokens} / ${c.promptTokens}, recomputed ${c.recomputedTokens} (${c.path}); answer ${c.agreeingTokens} / ${c.of} tokens as full compute: ${c.pass ? 'ok' : 'FAIL'}`,
    );
  }
}

function benchLines(lines: string[], b: Record<string, unknown> | undefined, peak: number | null): void {
  if (!b) return;
  const rows = b.rows as BenchRow[];
  lines.push(
    '',
    'bench (random weights, real shapes; GB/s = weight bytes read per second of decode, wall / GPU time)',
    `  model          format  prompt  prefill tok/s  decode tok/s  weights MB  GB/s wall  GB/s GPU${peak ? '  % peak' : ''}`,
  );
  for (const x of rows) {
    if (x.status !== 'ok') {
      lines.push(
        `  ${x.model.padEnd(14)} ${x.format.padEnd(6)}  ${x.status}: ${(x.error ?? '').split('\n').pop()}`,
      );
      continue;
    }
    const pct =
      peak && x.decodeWeightGBpsGpu
        ? `  ${((100 * x.decodeWeightGBpsGpu) / peak).toFixed(1).padStart(6)}`
        : '';
    lines.push(
      `  ${x.model.padEnd(14)} ${x.format.padEnd(6)}  ${String(x.promptTokens).padStart(6)}  ${num(x.prefillTokensPerSec).padStart(13)}  ${num(x.decodeTokensPerSec).padStart(12)}  ${num((x.weightBytes ?? 0) / 1e6, 0).padStart(10)}  ${num(x.decodeWeightGBps, 2).padStart(9)}  ${num(x.decodeWeightGBpsGpu, 2).padStart(8)}${pct}`,
    );
  }
  for (const x of rows) {
    for (const p of x.profile ?? []) {
      const top = p.kinds
        .slice(0, 6)
        .map((k) => `${k.kind} ${((100 * k.ms) / p.totalMs).toFixed(0)}%`)
        .join(', ');
      lines.push(
        `  profile ${x.model} ${x.format} ${p.rows === 1 ? 'decode' : `prefill ${p.rows}`}: ${p.totalMs.toFixed(2)} ms (${p.method}): ${top}`,
      );
    }
  }
}
