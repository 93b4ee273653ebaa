// The reuse TTFT table (bench/ttft-reuse.ts: exact repeats, a follow-up turn, ~80%-similar prompts,
// every reuse mode against a full prefill) at 512 tokens (SmolLM2-135M shapes) and 2,048 tokens
// (Qwen2.5-0.5B shapes, whose context takes it), random BF16 weights.
import { runNode, tail } from './child.ts';
import { leftMs, type SynthShape, synthModel } from './models.ts';
import type { PartContext, PartData } from './types.ts';

interface TtftRun {
  shape: SynthShape;
  promptTokens: number;
  reps: number;
  scenarios: string;
}

const FULL: TtftRun[] = [
  { shape: 'smollm2-135m', promptTokens: 512, reps: 3, scenarios: 'repeat,repeat-stored,follow-up,similar' },
  { shape: 'qwen2.5-0.5b', promptTokens: 2048, reps: 2, scenarios: 'repeat,follow-up,similar' },
];

const DRY: TtftRun[] = [{ shape: 'stories15m', promptTokens: 128, reps: 1, scenarios: 'repeat,similar' }];

/** One row of a scenario's table: the mode's median TTFT and its ratio to a full prefill. */
interface TtftRow {
  mode: string;
  ttftMs: number;
  speedup: number;
  reused: number;
  computed: number;
}

export interface TtftTable {
  model: string;
  promptTokens: number;
  status: 'ok' | 'failed' | 'timeout' | 'skipped';
  error?: string;
  scenarios: { name: string; what: string; rows: TtftRow[] }[];
  /** bench/ttft-reuse.ts's own output. */
  text: string;
}

/** The scenario tables of bench/ttft-reuse.ts's output. */
function parseTtft(text: string): TtftTable['scenarios'] {
  const out: TtftTable['scenarios'] = [];
  for (const line of text.split('\n')) {
    const head = /^(repeat|repeat-stored|follow-up|similar): (.*)$/.exec(line);
    if (head) out.push({ name: head[1], what: head[2], rows: [] });
    const row = /^(\S+)\s+([\d.]+)\s+([\d.]+)\s+(\d+)\s+(\d+)\s/.exec(line);
    if (row && out.length > 0) {
      out[out.length - 1].rows.push({
        mode: row[1],
        ttftMs: Number(row[2]),
        speedup: Number(row[3]),
        reused: Number(row[4]),
        computed: Number(row[5]),
      });
    }
  }
  return out;
}

export async function ttftPart(ctx: PartContext): Promise<PartData> {
  const t0 = performance.now();
  const tables: TtftTable[] = [];
  // As in the bench: a table cut by the budget is shown as such; a failed one fails the part.
  const data = (): PartData => ({
    pass: tables.some((t) => t.status === 'ok') && !tables.some((t) => t.status === 'failed'),
    tables,
  });
  for (const run of ctx.dryRun ? DRY : FULL) {
    const table: TtftTable = {
      model: run.shape,
      promptTokens: run.promptTokens,
      status: 'skipped',
      scenarios: [],
      text: '',
    };
    tables.push(table);
    if (leftMs(ctx, t0) < 10_000) {
      table.error = 'no time left in the ttft budget';
      continue;
    }
    try {
      const dir = await synthModel(ctx, run.shape, leftMs(ctx, t0));
      const args = ['ttft-reuse', '--model', dir, '--prompt-tokens', String(run.promptTokens)];
      args.push('--reps', String(run.reps), '--scenarios', run.scenarios);
      const r = await runNode(ctx.self, args, leftMs(ctx, t0));
      table.text = r.stdout.trim();
      table.scenarios = parseTtft(r.stdout);
      table.status = r.code === 0 ? 'ok' : r.timedOut ? 'timeout' : 'failed';
      if (r.code !== 0) table.error = tail(r.stderr, 6);
    } catch (e) {
      table.status = 'failed';
      table.error = (e as Error).message;
    }
    ctx.save(data());
  }
  return data();
}
