// `kvshare bench --profile --json` on random-weight models of real shapes made on the spot (synth):
// prefill and decode tok/s, the per-op profile by timestamps, and the GB/s of weight reads a decode
// step achieves (weight bytes / step time, by wall clock and by GPU time).
import type { StepProfile } from '../../../src/cli/profile.ts';
import { runNode, tail } from './child.ts';
import { leftMs, type SynthShape, synthModel } from './models.ts';
import type { PartContext, PartData } from './types.ts';

interface BenchRun {
  shape: SynthShape;
  quantize?: 'q4';
  promptTokens: number;
  newTokens: number;
  /** Add the per-op profile (default true): it loads the model a second time. */
  profile?: boolean;
}

/**
 * In order of what matters most. `--quantize q4` quantizes on the CPU as the model loads (seconds per
 * 100 M weights), and the profile loads it again: Qwen2.5-0.5B in q4 runs last, without the profile,
 * and Llama-3.2-1B (1.2 B weights, 2.5 GB in BF16) in BF16 only.
 */
const FULL: BenchRun[] = [
  { shape: 'smollm2-135m', promptTokens: 512, newTokens: 64 },
  { shape: 'smollm2-135m', quantize: 'q4', promptTokens: 512, newTokens: 64 },
  { shape: 'qwen2.5-0.5b', promptTokens: 512, newTokens: 64 },
  { shape: 'llama-3.2-1b', promptTokens: 512, newTokens: 64 },
  { shape: 'stories15m', promptTokens: 128, newTokens: 64 },
  { shape: 'stories15m', quantize: 'q4', promptTokens: 128, newTokens: 64 },
  { shape: 'qwen2.5-0.5b', quantize: 'q4', promptTokens: 512, newTokens: 64, profile: false },
];

const DRY: BenchRun[] = [
  { shape: 'stories15m', promptTokens: 16, newTokens: 4 },
  { shape: 'stories15m', quantize: 'q4', promptTokens: 16, newTokens: 4 },
];

/** One row of the bench table. */
export interface BenchRow {
  model: string;
  format: string;
  promptTokens: number;
  status: 'ok' | 'failed' | 'timeout' | 'skipped';
  error?: string;
  prefillTokensPerSec?: number;
  decodeTokensPerSec?: number;
  weightBytes?: number;
  /** Weight bytes read per second of decode (bytes x decode tok/s), wall clock. */
  decodeWeightGBps?: number;
  /** The same over the GPU time of one profiled decode step (timestamps). */
  decodeWeightGBpsGpu?: number;
  profile?: StepProfile[];
}

export async function benchPart(ctx: PartContext): Promise<PartData> {
  const t0 = performance.now();
  const rows: BenchRow[] = [];
  // Runs skipped or cut by the budget are a matter of time, shown in the table; a failed run fails.
  const data = (): PartData => ({
    pass: rows.some((r) => r.status === 'ok') && !rows.some((r) => r.status === 'failed'),
    rows,
  });
  for (const run of ctx.dryRun ? DRY : FULL) {
    const row: BenchRow = {
      model: run.shape,
      format: run.quantize ?? 'bf16',
      promptTokens: run.promptTokens,
      status: 'skipped',
    };
    rows.push(row);
    if (leftMs(ctx, t0) < 10_000) {
      row.error = 'no time left in the bench budget';
      continue;
    }
    try {
      const dir = await synthModel(ctx, run.shape, leftMs(ctx, t0));
      const args = ['kvshare', 'bench', '--model', dir, '--prompt-tokens', String(run.promptTokens)];
      args.push(
        '--new-tokens',
        String(run.newTokens),
        '--json',
        ...(run.profile === false ? [] : ['--profile']),
      );
      if (run.quantize) args.push('--quantize', run.quantize);
      const r = await runNode(ctx.self, args, leftMs(ctx, t0), { echo: false });
      const line = r.stdout
        .trim()
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .pop();
      if (r.code !== 0 || !line) {
        row.status = r.timedOut ? 'timeout' : 'failed';
        row.error = tail(r.stderr, 6);
      } else {
        const j = JSON.parse(line);
        Object.assign(row, {
          status: 'ok',
          prefillTokensPerSec: j.prefillTokensPerSec,
          decodeTokensPerSec: j.decodeTokensPerSec,
          weightBytes: j.weightBytes,
          decodeWeightGBps: round((j.weightBytes * j.decodeTokensPerSec) / 1e9),
          profile: j.profile,
        });
        const decode = (j.profile as StepProfile[] | undefined)?.find((p) => p.rows === 1);
        if (decode && decode.totalMs > 0)
          row.decodeWeightGBpsGpu = round(j.weightBytes / (decode.totalMs / 1e3) / 1e9);
      }
    } catch (e) {
      row.status = 'failed';
      row.error = (e as Error).message;
    }
    console.log(`bench ${row.model} ${row.format}: ${row.status} ${row.decodeTokensPerSec ?? ''}`);
    ctx.save(data());
  }
  return data();
}

function round(x: number): number {
  return Math.round(x * 100) / 100;
}
