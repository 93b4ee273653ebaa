// Every error class of src/errors.ts has a distinct code and a row in the README's error table.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as errors from '../../src/errors.ts';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
const classes = Object.entries(errors).filter(
  ([, v]) => typeof v === 'function' && v.prototype instanceof errors.KVShareError,
) as [string, new (m: string) => errors.KVShareError][];

describe('error codes', () => {
  it('are distinct, one per class', () => {
    const codes = classes.map(([, C]) => new C('').code);
    expect(new Set(codes).size).toBe(classes.length);
    expect(classes.length).toBeGreaterThanOrEqual(16);
  });
  it.each(classes)('%s has a README row with its code', (name, C) => {
    const row = readme.split('\n').find((l) => l.startsWith(`| \`${name}\``));
    expect(row).toContain(`\`${new C('').code}\``);
  });
  it('withCode gives anything else the INTERNAL code and keeps the cause', () => {
    const cause = new TypeError('x is undefined');
    const e = errors.withCode(cause);
    expect(e).toBeInstanceOf(errors.InternalError);
    expect(e.code).toBe('INTERNAL');
    expect(e.cause).toBe(cause);
    const kept = new errors.CachePackError('bad');
    expect(errors.withCode(kept)).toBe(kept);
    expect(errors.withCode(new DOMException('stop', 'AbortError'))).toBeInstanceOf(errors.AbortError);
  });
});
