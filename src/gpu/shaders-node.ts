import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { InternalError } from '../errors.ts';
import type { ShaderLibrary } from './pipelines.ts';

/** Reads every shaders/*.wgsl from the package (works from src/ and from dist/src/). */
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
  for (const f of readdirSync(dir)) {
    if (f.endsWith('.wgsl')) lib[f.slice(0, -5)] = readFileSync(dir + f, 'utf8');
  }
  return lib;
}
