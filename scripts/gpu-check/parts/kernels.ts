// Every kernel variant against its TypeScript reference (scripts/gpu-check/kernels/), results saved
// as they come so that a part killed by its time box keeps what it measured.
import { kernelHarness } from '../../../test/helpers/gpu.ts';
import { checkAttention, DRY_ATTENTION, FULL_ATTENTION } from '../kernels/attention.ts';
import type { KernelResult } from '../kernels/common.ts';
import { checkMatmuls, DRY_MATMUL, DRY_SPLITS, FULL_MATMUL } from '../kernels/matmul.ts';
import { checkMisc, DRY_MISC, FULL_MISC } from '../kernels/misc.ts';
import type { PartContext, PartData } from './types.ts';

export async function kernelsPart(ctx: PartContext): Promise<PartData> {
  const h = await kernelHarness();
  const results: KernelResult[] = [];
  const data = (): PartData => ({
    pass: results.every((r) => r.pass),
    checked: results.length,
    failed: results.filter((r) => !r.pass).length,
    results,
  });
  let last = 0;
  const onResult = (r: KernelResult) => {
    results.push(r);
    if (!r.pass || performance.now() - last > 2000) {
      ctx.save(data());
      last = performance.now();
    }
  };
  await checkMisc(h, ctx.dryRun ? DRY_MISC : FULL_MISC, onResult);
  await checkAttention(h, ctx.dryRun ? DRY_ATTENTION : FULL_ATTENTION, onResult);
  await checkMatmuls(h, ctx.dryRun ? DRY_MATMUL : FULL_MATMUL, onResult, ctx.dryRun ? DRY_SPLITS : undefined);
  return data();
}
