import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defaultClientConditions, defineConfig } from 'vite';
import { serveComponentAt } from './scripts/vite-component-path.ts';
import { exitWithParent } from './scripts/vite-exit-with-parent.ts';
import { serveModels } from './scripts/vite-models.ts';

const projectRoot = fileURLToPath(new URL('.', import.meta.url));
/** Model folders served at /models/<name>/ (e.g. /models/stories260K-hf/): the repo's assets/, or $KVSHARE_ASSETS. */
const assets = process.env.KVSHARE_ASSETS ?? resolve(projectRoot, 'assets');

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
    // For the peer benchmark's page only (bench/peer, @huggingface/transformers): onnxruntime-web's
    // build that fetches its wasm when used rather than embedding it. The engine does not use it.
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
    include: ['comlink', '@huggingface/tokenizers', '@huggingface/jinja', 'idb-keyval'],
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
