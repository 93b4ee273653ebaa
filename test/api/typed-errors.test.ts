// Every failure the library throws carries a code: src/ throws KVShareError subclasses (src/errors.ts),
// InternalError for its own bugs, never a bare Error or TypeError. (RangeError stays where a caller
// catches it to say what was out of range in its own terms, e.g. prepareTensor around the quantizers.)
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = resolve(import.meta.dirname, '../../src');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
    const path = join(dir, d.name);
    if (d.isDirectory()) return sourceFiles(path);
    return d.name.endsWith('.ts') ? [path] : [];
  });
}

/** 'file:line' of each `throw new Error(` or `throw new TypeError(` in `text`. */
function bareThrows(file: string, text: string): string[] {
  return text
    .split('\n')
    .flatMap((line, i) => (/\bthrow\s+new\s+(Type)?Error\s*\(/.test(line) ? [`${file}:${i + 1}`] : []));
}

describe('typed errors', () => {
  it('src/ throws no bare Error (KVShareError subclasses carry a code)', () => {
    const found = sourceFiles(SRC).flatMap((f) => bareThrows(relative(SRC, f), readFileSync(f, 'utf8')));
    expect(found).toEqual([]);
  });

  it('finds a bare throw when there is one (the check can fail)', () => {
    expect(bareThrows('x.ts', "ok();\n  throw new Error('no');\nthrow new InternalError('x');")).toEqual([
      'x.ts:2',
    ]);
  });
});
