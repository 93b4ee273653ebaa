// The GPU check kit rehearsed on this machine (docs/GPU-CHECK.md): `npm run gpu-check` builds gpu-kit/
// (the bundle that travels to a GPU machine), then `bash gpu-kit/run.sh --dry-run` runs it here as it
// runs there (unpacked Node, Dawn and Vulkan loader; the software adapter; small shapes) and must
// pass: every kernel variant within tolerance of its reference, including the GPU paths forced on
// this adapter, stories260K equal to its golden outputs, the reuse answers, bench and TTFT tables.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { KernelResult } from '../../scripts/gpu-check/kernels/common.ts';
import type { Report } from '../../scripts/gpu-check/report.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));
const MiB = 2 ** 20;

describe('GPU check kit', () => {
  it('builds within 60 MiB and passes its dry run on the software adapter', { timeout: 20 * 60_000 }, () => {
    const built = execFileSync(process.execPath, ['--import', 'tsx', 'scripts/gpu-check/build.ts'], {
      cwd: root,
      encoding: 'utf8',
    });
    const size = /bundle size: ([\d.]+) MiB .*: ([\d.]+) MiB of 64\.0 MiB/.exec(built);
    const command = built.split('\n').find((l) => l.startsWith('GPU machine command'));
    console.log(`${size?.[0]}\n${command}`);
    expect(Number(size?.[1]) * MiB).toBeLessThanOrEqual(60 * MiB);
    expect(Number(size?.[2]) * MiB).toBeLessThanOrEqual(64 * MiB);
    expect(command).toContain('bash gpu-kit/run.sh');

    const out = mkdtempSync(join(tmpdir(), 'kvshare-gpu-out-'));
    const run = spawnSync('bash', ['gpu-kit/run.sh', '--dry-run'], {
      cwd: root,
      env: { ...process.env, OUT: out },
      encoding: 'utf8',
    });
    const text = readFileSync(join(out, 'report.txt'), 'utf8');
    if (run.status !== 0) console.log(`${run.stdout}\n${run.stderr}`);
    expect(text, text).toMatch(/^KVShare-Web GPU check \(dry run on a software adapter\): PASS/);
    expect(run.status).toBe(0);

    const report: Report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
    expect(report.parts.map((p) => [p.name, p.status])).toEqual(
      ['adapter', 'kernels', 'golden', 'bench', 'ttft'].map((n) => [n, 'pass']),
    );
    const part = (name: string) => report.parts.find((p) => p.name === name)!.data as Record<string, unknown>;
    const kernels = part('kernels').results as KernelResult[];
    expect(kernels.every((k) => k.pass && k.tolRatio <= 1)).toBe(true);
    const variants = new Set(kernels.map((k) => `${k.kernel} / ${k.variant}`));
    // The GPU paths (forced here) and the software adapter's own.
    for (const v of [
      'matmul bf16 / gemv one row subgroup',
      'matmul q4 / gemm tiles',
      'matmul q6k / gemm thread blocks',
      'attention / flash split+combine',
      'attention / thread scores+output',
      'rope_kv (RoPE + cache write) / only path',
      'kvpatch / only path',
      'kvscore (deviation + score) / only path',
    ]) {
      expect(variants.has(v), v).toBe(true);
    }
    const golden = part('golden') as { greedy64: { equal: boolean }; greedy256: { equal: boolean } };
    expect([golden.greedy64.equal, golden.greedy256.equal]).toEqual([true, true]);
    const rows = part('bench').rows as { status: string; decodeTokensPerSec: number }[];
    expect(rows.every((r) => r.status === 'ok' && r.decodeTokensPerSec > 0)).toBe(true);
    expect(readFileSync(join(out, 'env.txt'), 'utf8')).toMatch(/node: v\d+/);
  });
});
