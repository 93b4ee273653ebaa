import { InvalidArgumentError } from '../errors.ts';

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
