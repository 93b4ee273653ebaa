import { type CliArgs, num, str } from './args.ts';
import { writeSyntheticModel } from './synthetic/synthetic.ts';
import type { SyntheticTokenizer } from './synthetic/synthetic-tokenizers.ts';

export async function runSynth(args: CliArgs): Promise<number> {
  const out = str(args, 'out');
  await writeSyntheticModel({
    shape: str(args, 'shape') as Parameters<typeof writeSyntheticModel>[0]['shape'],
    out,
    seed: num(args, 'seed', 1),
    dtype: (args.dtype as 'F32' | 'F16' | 'BF16' | undefined) ?? 'F32',
    layers: args.layers ? num(args, 'layers', 0) : undefined,
    shards: args.shards ? num(args, 'shards', 1) : undefined,
    tokenizer: args.tokenizer ? (str(args, 'tokenizer') as SyntheticTokenizer) : undefined,
    reply: args.reply !== undefined ? str(args, 'reply') : undefined,
  });
  console.log(`wrote ${out}`);
  return 0;
}
