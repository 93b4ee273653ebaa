import { InvalidArgumentError } from '../errors.ts';

/**
 * An AbortSignal or undefined (anything else, e.g. `{}`, is refused rather than failing later). Used on
 * both sides of the worker boundary: by the engine's validation and by the client before it sends.
 */
export function checkSignal(name: string, v: unknown): void {
  if (v === undefined) return;
  const s = v as Partial<AbortSignal>;
  const ok =
    typeof v === 'object' &&
    v !== null &&
    typeof s.aborted === 'boolean' &&
    typeof s.addEventListener === 'function' &&
    typeof s.removeEventListener === 'function';
  if (!ok) throw new InvalidArgumentError(`${name} must be an AbortSignal`);
}
