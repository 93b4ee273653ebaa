/**
 * The `<kvshare-chat>` library build (`npm run build:component`): src/component/index.ts as one ES
 * module, dist-component/kvshare-chat.js, plus what it loads on demand under dist-component/assets/:
 * the engine's Web Worker (with every WGSL shader inlined as text) and the tokenizer library. Every
 * URL is relative to the module (`new URL('./assets/…', import.meta.url)`), so the folder can be
 * served from any path of the site that embeds it.
 */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const projectRoot = fileURLToPath(new URL('.', import.meta.url));

export default defineConfig({
  root: projectRoot,
  // Relative asset URLs: the worker is found next to the module wherever the site puts it.
  base: './',
  publicDir: false,
  worker: { format: 'es' },
  build: {
    outDir: process.env.KVSHARE_COMPONENT_OUT ?? resolve(projectRoot, 'dist-component'),
    emptyOutDir: true,
    target: 'es2022',
    lib: {
      entry: resolve(projectRoot, 'src/component/index.ts'),
      formats: ['es'],
      fileName: () => 'kvshare-chat.js',
    },
  },
});
