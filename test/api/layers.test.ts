// The module graph of src/: no import cycles (type-only imports included), the public vocabulary
// (src/api/*, src/errors.ts) is a leaf that imports nothing else from src/, and each folder imports only
// the folders below it in docs/DESIGN.md's picture (no sideways imports such as client -> engine).
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = resolve(import.meta.dirname, '../../src');

/** Every .ts file under `dir`, as paths relative to src/ ('api/types.ts'). */
function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
    const path = join(dir, d.name);
    if (d.isDirectory()) return sourceFiles(path);
    return d.name.endsWith('.ts') && !d.name.endsWith('.d.ts') ? [relative(SRC, path)] : [];
  });
}

/** Specifiers of static imports, re-exports and dynamic imports in `text`. */
function specifiers(text: string): string[] {
  const out: string[] = [];
  const re =
    /(?:^|\n)\s*(?:import|export)\b[^'";]*?\bfrom\s*['"]([^'"]+)['"]|\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)|(?:^|\n)\s*import\s*['"]([^'"]+)['"]/g;
  for (const m of text.matchAll(re)) out.push(m[1] ?? m[2] ?? m[3]);
  return out;
}

/** The src/ files each src/ file imports (relative specifiers only; packages are not part of the graph). */
function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of sourceFiles(SRC)) {
    const text = readFileSync(join(SRC, file), 'utf8');
    const deps = specifiers(text)
      .filter((s) => s.startsWith('.'))
      .map((s) => relative(SRC, resolve(SRC, dirname(file), s)));
    graph.set(file, deps);
  }
  return graph;
}

/** Strongly connected components with more than one file, or a file importing itself (Tarjan). */
function cycles(graph: Map<string, string[]>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const out: string[][] = [];
  let next = 0;
  const visit = (v: string) => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) !== index.get(v)) return;
    const scc: string[] = [];
    let w: string;
    do {
      w = stack.pop()!;
      onStack.delete(w);
      scc.push(w);
    } while (w !== v);
    if (scc.length > 1 || (graph.get(v) ?? []).includes(v)) out.push(scc.sort());
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return out;
}

/**
 * What each folder of src/ may import (besides itself, src/api, src/errors.ts and src/util, which every
 * folder may use). Follows the layers of docs/DESIGN.md: the page side (component, client) never reaches
 * into the engine, the reuse CPU side (kvshare) and the store know nothing of the GPU, the kernels (ops,
 * gpu) know nothing of models.
 */
const ALLOWED: Record<string, string[]> = {
  component: ['client'],
  client: ['worker'],
  worker: ['browser'],
  browser: ['engine', 'gpu', 'kvshare', 'store'],
  node: ['engine', 'gpu', 'index.ts'],
  cli: ['engine', 'eval', 'gpu', 'kvshare', 'llama', 'model', 'node', 'store'],
  eval: ['engine', 'kvshare', 'llama'],
  engine: ['gpu', 'kvshare', 'llama', 'model', 'store'],
  store: ['kvshare'],
  kvshare: [],
  llama: ['gpu', 'model', 'ops'],
  model: ['ops'],
  ops: ['gpu'],
  gpu: [],
  util: [],
  'index.ts': ['api', 'client', 'engine', 'errors.ts', 'kvshare', 'model', 'store'],
};
const EVERYONE = ['api', 'errors.ts', 'util'];

/** The folder of a src/ path ('engine/prefill.ts' -> 'engine'), or the file itself at the top ('errors.ts'). */
const folderOf = (f: string) => (f.includes('/') ? f.slice(0, f.indexOf('/')) : f);

/** Imports from one folder into a folder it may not import, as 'from -> to' lines. */
function sideways(graph: Map<string, string[]>): string[] {
  return [...graph].flatMap(([file, deps]) => {
    const from = folderOf(file);
    if (from === 'api' || from === 'errors.ts') return []; // the leaf test covers these
    const allowed = new Set([from, ...EVERYONE, ...(ALLOWED[from] ?? [])]);
    return deps.filter((d) => !allowed.has(folderOf(d))).map((d) => `${file} -> ${d}`);
  });
}

describe('src/ module graph', () => {
  const graph = importGraph();

  it('resolves every relative import to a file of src/', () => {
    const missing = [...graph].flatMap(([file, deps]) =>
      deps.filter((d) => !graph.has(d) && !d.endsWith('.wgsl')).map((d) => `${file} -> ${d}`),
    );
    expect(missing).toEqual([]);
  });

  it('has no import cycle', () => {
    expect(graph.size).toBeGreaterThan(50);
    expect(cycles(graph)).toEqual([]);
  });

  it('keeps src/api and src/errors.ts leaves: they import nothing else from src/', () => {
    const leaf = (f: string) => f.startsWith('api/');
    const outward = [...graph]
      .filter(([file]) => leaf(file) || file === 'errors.ts')
      .flatMap(([file, deps]) =>
        deps.filter((d) => !leaf(d) || file === 'errors.ts').map((d) => `${file} -> ${d}`),
      );
    expect(outward).toEqual([]);
    expect([...graph.keys()].filter(leaf).length).toBeGreaterThanOrEqual(5);
  });

  it('has no sideways import: each folder imports only the folders below it', () => {
    expect(Object.keys(ALLOWED).sort()).toEqual(
      [...new Set([...graph.keys()].map(folderOf))].filter((f) => f !== 'api' && f !== 'errors.ts').sort(),
    );
    expect(sideways(graph)).toEqual([]);
  });

  it('finds a cycle, an outward and a sideways import when there is one (the checks can fail)', () => {
    expect(
      sideways(
        new Map([
          ['client/remote.ts', ['engine/validate-options.ts', 'util/signal.ts']],
          ['kvshare/align.ts', ['llama/reuse-kit.ts']],
          ['ops/matmul.ts', ['model/types.ts', 'gpu/op.ts']],
        ]),
      ),
    ).toEqual([
      'client/remote.ts -> engine/validate-options.ts',
      'kvshare/align.ts -> llama/reuse-kit.ts',
      'ops/matmul.ts -> model/types.ts',
    ]);
    const g = new Map([
      ['api/a.ts', ['engine/b.ts']],
      ['engine/b.ts', ['engine/c.ts']],
      ['engine/c.ts', ['api/a.ts']],
    ]);
    expect(cycles(g)).toEqual([['api/a.ts', 'engine/b.ts', 'engine/c.ts']]);
    expect(
      specifiers("import type { X } from './x.ts';\nexport { y } from '../y.ts';\nawait import('./z.ts');"),
    ).toEqual(['./x.ts', '../y.ts', './z.ts']);
  });
});
