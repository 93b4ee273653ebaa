import { InvalidArgumentError } from '../errors.ts';
import type { QuantizeOption } from '../model/types.ts';
import type { KVDtype } from '../util/kv-dtype.ts';

export type CliArgs = Record<string, string | boolean | undefined>;

export function str(args: CliArgs, name: string): string {
  const v = args[name];
  if (typeof v !== 'string' || v.length === 0) throw new InvalidArgumentError(`--${name} is required`);
  return v;
}

export function num(args: CliArgs, name: string, fallback: number): number {
  const v = args[name];
  if (v === undefined) return fallback;
  const n = Number(v);
  if (typeof v !== 'string' || !Number.isFinite(n))
    throw new InvalidArgumentError(`--${name} must be a number (got ${v})`);
  return n;
}

/** --quantize q4 | q8, or undefined when absent. */
export function quantizeArg(args: CliArgs): QuantizeOption | undefined {
  const v = args.quantize;
  if (v === undefined) return undefined;
  if (v !== 'q4' && v !== 'q8') throw new InvalidArgumentError(`--quantize must be q4 or q8 (got ${v})`);
  return v;
}

/** --kv-dtype f16 | f32 | q8, or undefined when absent (the engine's default: f16 where the head size allows). */
export function kvDtypeArg(args: CliArgs): KVDtype | undefined {
  const v = args['kv-dtype'];
  if (v === undefined) return undefined;
  if (v !== 'f16' && v !== 'f32' && v !== 'q8') {
    throw new InvalidArgumentError(`--kv-dtype must be f16, f32 or q8 (got ${v})`);
  }
  return v;
}
