import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InternalError } from '../errors.ts';
import type { ShaderLibrary } from './pipelines.ts';

/**
 * Reads every .wgsl under shaders/ (sub-folders included) from the package (works from src/ and from dist/src/), keyed by file
 * stem: shaders/software/ holds the kernels only software adapters run, under the same flat names.
 */
export function nodeShaderLibrary(): ShaderLibrary {
  const candidates = ['../../shaders/', '../../../shaders/'].map((p) =>
    fileURLToPath(new URL(p, import.meta.url)),
  );
  const dir = candidates.find((d) => existsSync(d));
  if (!dir)
    throw new InternalError(
      `internal error: the package's shaders/ folder was not found (looked in ${candidates.join(', ')})`,
    );
  const lib: ShaderLibrary = {};
  for (const f of readdirSync(dir, { recursive: true }) as string[]) {
    if (!f.endsWith('.wgsl')) continue;
    const name = basename(f, '.wgsl');
    if (name in lib) throw new InternalError(`internal error: two shaders are named ${name}.wgsl`);
    lib[name] = readFileSync(join(dir, f), 'utf8');
  }
  return lib;
}
