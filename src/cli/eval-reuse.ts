import { readFileSync } from 'node:fs';
import type { EngineHooks } from '../engine/hooks.ts';
import { REUSE_MODES, type ReuseMode } from '../engine/prefill.ts';
import { InvalidArgumentError } from '../errors.ts';
import { DEFAULT_EVAL_SYSTEM } from '../eval/chat.ts';
import { evalReuse } from '../eval/eval-reuse.ts';
import { parsePairsJsonl } from '../eval/pairs.ts';
import { checkEvalSelector, EVAL_SELECTORS } from '../eval/selectors.ts';
import { createNodeTokenEngine } from '../node/index.ts';
import { type CliArgs, kvDtypeArg, num, str } from './args.ts';

export async function runEvalReuse(args: CliArgs): Promise<number> {
  const modes: ReuseMode[] =
    args.modes === 'all' || (args.modes === undefined && args.mode === undefined)
      ? [...REUSE_MODES]
      : String(args.modes ?? args.mode)
          .split(',')
          .map((m) => {
            if (!REUSE_MODES.includes(m as ReuseMode)) throw new InvalidArgumentError(`unknown mode ${m}`);
            return m as ReuseMode;
          });
  const selectors =
    args.select === undefined
      ? undefined
      : args.select === 'all'
        ? [...EVAL_SELECTORS]
        : String(args.select).split(',').map(checkEvalSelector);
  const pairs = parsePairsJsonl(readFileSync(str(args, 'pairs'), 'utf8'));
  const limit = num(args, 'limit', pairs.length);
  const hooks: EngineHooks = {};
  const engine = createNodeTokenEngine(hooks);
  const info = await engine.load(str(args, 'model'), {
    contextLength: args.context ? num(args, 'context', 0) : undefined,
    kvDtype: kvDtypeArg(args),
  });
  console.error(`adapter: ${info.adapter}`);
  const report = await evalReuse({ engine, hooks }, pairs.slice(0, limit), {
    modes,
    selectors,
    reuse: {
      minSimilarity: args['min-similarity'] === undefined ? undefined : num(args, 'min-similarity', 0),
      minFragment: args['min-fragment'] === undefined ? undefined : num(args, 'min-fragment', 0),
    },
    recomputeRatio: num(args, 'recompute-ratio', 0.15),
    maxNewTokens: num(args, 'max-new-tokens', 32),
    reps: num(args, 'reps', 3),
    chat: args.chat
      ? { system: typeof args.system === 'string' ? args.system : DEFAULT_EVAL_SYSTEM }
      : undefined,
    onPair: (i, n) => process.stderr.write(`\rpair ${i + 1}/${n}`),
  });
  process.stderr.write('\n');
  if (args.json) {
    console.log(JSON.stringify(report));
  } else {
    const f = (x: number) => x.toFixed(3).padStart(8);
    const ms = (x: number) => x.toFixed(1).padStart(8);
    console.log(
      'mode     select  pairs  reused  recomp   ident first-tok tok-agree  rougeL    bleu   kl-1st  ttft ms  none ms  none/mode  est-slower',
    );
    for (const s of report.summary) {
      console.log(
        `${s.mode.padEnd(8)} ${s.select.padEnd(6)} ${String(s.pairs).padStart(5)}${f(s.reusedFraction)}${f(s.recomputedFraction)}${f(s.identical)}  ${f(s.firstTokenAgreement)}${f(s.tokenAgreement)}${f(s.rougeL)}${f(s.bleu)} ${f(s.firstTokenKl)} ${ms(s.ttftMs)} ${ms(s.noneTtftMs)}  ${f(s.ttftRatio)}  ${String(s.estimatedSlower).padStart(10)}`,
      );
    }
  }
  await engine.unload();
  return 0;
}
