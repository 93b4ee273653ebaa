import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defaultClientConditions, defineConfig } from 'vite';
import { serveComponentAt } from './scripts/vite-component-path.ts';
import { exitWithParent } from './scripts/vite-exit-with-parent.ts';
import { serveModels } from './scripts/vite-models.ts';

const projectRoot = fileURLToPath(new URL('.', import.meta.url));
/** Model folders served at /models/<name>/ (e.g. /models/stories260K-hf/). */
const assets = process.env.KVSHARE_ASSETS ?? resolve(projectRoot, '../shared/assets');

// `npm start` serves the chat demo from demo/. The browser tests (e2e/harness.ts) reuse this config
// with `root: 'e2e/pages'`.
export default defineConfig({
  root: resolve(projectRoot, 'demo'),
  plugins: [
    serveModels(assets),
    serveComponentAt(resolve(projectRoot, 'src/component/index.ts')),
    // `npm start` stopped (SIGTERM to npm) stops Vite too.
    exitWithParent(),
  ],
  resolve: {
    // onnxruntime-web (imported by @huggingface/transformers, never run here) would otherwise put its
    // ~27 MB wasm into the build; this condition picks its build that fetches the wasm only if used.
    conditions: ['onnxruntime-web-use-extern-wasm', ...defaultClientConditions],
  },
  server: {
    // Pages import src/ and shaders/ from outside their root.
    fs: { allow: [projectRoot] },
    // The browser tests' servers (playwright.config.ts): a file saved mid-run must not reload a page.
    ...(process.env.KVSHARE_NO_HMR === '1' ? { hmr: false } : {}),
  },
  worker: { format: 'es' },
  optimizeDeps: {
    // Found only inside the worker (and by a dynamic import): pre-bundle them up front so the dev
    // server does not re-optimise and reload the page mid-session.
    include: ['comlink', '@huggingface/transformers', 'idb-keyval'],
  },
  build: {
    outDir: resolve(projectRoot, 'dist-demo'),
    emptyOutDir: true,
    target: 'es2022',
    rolldownOptions: {
      // The chat demo and the <kvshare-chat> embed page.
      input: {
        main: resolve(projectRoot, 'demo/index.html'),
        embed: resolve(projectRoot, 'demo/embed.html'),
      },
    },
  },
});
