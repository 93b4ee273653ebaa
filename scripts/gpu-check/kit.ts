// The GPU check kit's one script (bundled by scripts/gpu-check/build.ts into gpu-kit/js/kit.mjs with
// the engine, the shaders and the CLI; docs/GPU-CHECK.md):
//   check [--dry-run] --assets DIR [--manifest F] [--out DIR] [--work DIR] [--only p1,p2]   every part, time-boxed
//   part NAME --result FILE --assets DIR --work DIR --budget-ms N [--dry-run]   one part
//   kvshare ARGS...      the kvshare CLI (synth, bench, ...)
//   ttft-reuse ARGS...   bench/ttft-reuse.ts
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { check, writeAtomic } from './check.ts';
import { adapterPart } from './parts/adapter.ts';
import { benchPart } from './parts/bench.ts';
import { kernelsPart } from './parts/kernels.ts';
import { goldenPart } from './parts/model.ts';
import { ttftPart } from './parts/ttft.ts';
import type { Part } from './parts/types.ts';

const PART_FNS: Record<string, Part> = {
  adapter: adapterPart,
  kernels: kernelsPart,
  golden: goldenPart,
  bench: benchPart,
  ttft: ttftPart,
};

const self = fileURLToPath(import.meta.url);
const [command, ...rest] = process.argv.slice(2);

async function runPart(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      result: { type: 'string' },
      assets: { type: 'string' },
      work: { type: 'string' },
      'budget-ms': { type: 'string' },
      'dry-run': { type: 'boolean', default: false },
    },
  });
  const fn = PART_FNS[positionals[0]];
  if (!fn || !values.result || !values.assets || !values.work) {
    console.error(`usage: part <${Object.keys(PART_FNS).join('|')}> --result F --assets D --work D`);
    return 2;
  }
  const result = values.result;
  const save = (data: unknown) => writeAtomic(result, JSON.stringify(data));
  const data = await fn({
    dryRun: values['dry-run'],
    assets: values.assets,
    work: values.work,
    self,
    budgetMs: Number(values['budget-ms'] ?? 60_000),
    save,
  });
  save(data);
  return 0;
}

/** Runs a script module as if started with `args` (it reads process.argv and exits by itself). */
async function runAsMain(load: () => Promise<unknown>, args: string[]): Promise<void> {
  process.argv = [process.argv[0], process.argv[1], ...args];
  await load();
}

switch (command) {
  case 'check':
    process.exitCode = await check(rest, self);
    break;
  case 'part':
    process.exitCode = await runPart(rest);
    break;
  case 'kvshare':
    await runAsMain(() => import('../../src/cli/main.ts'), rest);
    break;
  case 'ttft-reuse':
    await runAsMain(() => import('../../bench/ttft-reuse.ts'), rest);
    break;
  default:
    console.error('usage: kit.mjs check|part|kvshare|ttft-reuse ... (docs/GPU-CHECK.md)');
    process.exitCode = 2;
}
