import { existsSync, renameSync, rmSync } from 'node:fs';
import { runNode, tail } from './child.ts';
import type { PartContext } from './types.ts';

export type SynthShape = 'stories15m' | 'smollm2-135m' | 'qwen2.5-0.5b' | 'llama-3.2-1b';

/**
 * The folder of a random-weight BF16 model of `shape` in the kit's scratch folder, written by
 * `kvshare synth` (in a child, within `timeoutMs`; into a temporary folder renamed when complete)
 * unless an earlier part already wrote it.
 */
export async function synthModel(ctx: PartContext, shape: SynthShape, timeoutMs: number): Promise<string> {
  const dir = `${ctx.work}/models/${shape}-bf16`;
  if (existsSync(`${dir}/config.json`)) return dir;
  const tmp = `${dir}.partial`;
  rmSync(tmp, { recursive: true, force: true });
  const r = await runNode(
    ctx.self,
    ['kvshare', 'synth', '--shape', shape, '--out', tmp, '--dtype', 'BF16'],
    timeoutMs,
  );
  if (r.code === 0 && existsSync(`${tmp}/config.json`)) renameSync(tmp, dir);
  else {
    throw new Error(
      `synth ${shape} ${r.timedOut ? 'timed out' : `failed (${r.code ?? r.signal})`}: ${tail(r.stderr, 5)}`,
    );
  }
  return dir;
}

/** Milliseconds left of a part's budget that started at `t0`, less a margin for writing results. */
export function leftMs(ctx: PartContext, t0: number): number {
  return ctx.budgetMs - (performance.now() - t0) - 3000;
}
