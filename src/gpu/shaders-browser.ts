import type { ShaderLibrary } from './pipelines.ts';

/** Bundles every .wgsl under shaders/ (sub-folders included) into the browser build (Vite), keyed by file stem. */
export function browserShaderLibrary(): ShaderLibrary {
  const files = import.meta.glob('../../shaders/**/*.wgsl', {
    query: '?raw',
    import: 'default',
    eager: true,
  });
  const lib: ShaderLibrary = {};
  for (const [path, text] of Object.entries(files)) {
    const name = path
      .split('/')
      .pop()!
      .replace(/\.wgsl$/, '');
    lib[name] = text as string;
  }
  return lib;
}
