import { writeFile } from 'node:fs/promises';
import { InvalidArgumentError } from '../errors.ts';
import { convertToGguf, GGUF_OUT_TYPES, isGgufOutType } from '../model/gguf/gguf-convert.ts';
import { type CliArgs, str } from './args.ts';

/** kvshare convert --model <dir|url> --out <file.gguf> [--type f32|f16|bf16|q8_0|q4_0] [--json] */
export async function runConvert(args: CliArgs): Promise<number> {
  const model = str(args, 'model');
  const out = str(args, 'out');
  if (!/\.gguf$/i.test(out)) throw new InvalidArgumentError(`--out must name a .gguf file (got ${out})`);
  const type = args.type ?? 'f16';
  if (!isGgufOutType(type))
    throw new InvalidArgumentError(
      `--type must be one of ${GGUF_OUT_TYPES.join(', ')} (got ${String(type)})`,
    );
  const file = await convertToGguf(model, { type });
  await writeFile(out, file);
  if (args.json) console.log(JSON.stringify({ out, type, bytes: file.byteLength }));
  else console.log(`wrote ${out} (${type}, ${(file.byteLength / 2 ** 20).toFixed(2)} MiB)`);
  return 0;
}
