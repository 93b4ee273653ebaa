import type { ShaderLibrary } from './pipelines.ts';

/** Bundles every shaders/*.wgsl into the browser build (Vite). */
export function browserShaderLibrary(): ShaderLibrary {
  const files = import.meta.glob('../../shaders/*.wgsl', { query: '?raw', import: 'default', eager: true });
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
