import { createNodeTokenEngine } from '../node/index.ts';
import { type CliArgs, kvDtypeArg, num, quantizeArg, str } from './args.ts';

export async function runGenerate(args: CliArgs): Promise<number> {
  const engine = createNodeTokenEngine();
  const info = await engine.load(str(args, 'model'), {
    contextLength: args.context ? num(args, 'context', 0) : undefined,
    quantize: quantizeArg(args),
    kvDtype: kvDtypeArg(args),
  });
  console.error(`adapter: ${info.adapter}`);
  const opts = {
    maxNewTokens: num(args, 'max-new-tokens', 64),
    temperature: num(args, 'temperature', 0),
    topK: num(args, 'top-k', 0),
    topP: num(args, 'top-p', 1),
    seed: num(args, 'seed', 0x5eed),
  };
  const prompt = str(args, 'prompt');
  if (args.json) {
    const r = await engine.generate(prompt, opts);
    console.log(
      JSON.stringify({
        text: r.text,
        tokenIds: r.tokenIds,
        promptTokens: r.promptTokenIds,
        finishReason: r.finishReason,
        stats: r.stats,
      }),
    );
  } else {
    const stream = engine.generateStream(prompt, opts);
    for await (const chunk of stream) process.stdout.write(chunk.text);
    process.stdout.write('\n');
  }
  await engine.unload();
  return 0;
}
