/**
 * A Vite plugin that serves local model folders at `/models/<name>/<file>` (dev server and preview),
 * with HEAD and single-range `Range:` support, so pages load models by URL exactly as from a CDN:
 * `openModelSource('http://localhost:5173/models/stories260K-hf')`.
 *
 * `GET /models/index.json` answers `{models, network}` (ModelIndex): the local folders holding a
 * config.json and weights and the .gguf files (in the folder or one level down), and whether huggingface.co resolves from the server (decided here rather than in the
 * page, where a failed fetch logs console errors). `KVSHARE_OFFLINE=1` forces `network: false`.
 */
import { lookup } from 'node:dns/promises';
import { createReadStream } from 'node:fs';
import { readdir, realpath, stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { resolve, sep } from 'node:path';
import type { Connect, Plugin } from 'vite';

export const MODELS_PREFIX = '/models/';
export const MODEL_INDEX_PATH = `${MODELS_PREFIX}index.json`;

/** What `GET /models/index.json` answers. */
export interface ModelIndex {
  /**
   * Local models, sorted: folder names (each holds a config.json and safetensors weights) and .gguf
   * files, at the top (`name.gguf`) or one folder down (`folder/name.gguf`).
   */
  models: string[];
  /** Whether huggingface.co resolved from the server within about a second. */
  network: boolean;
}

const NETWORK_HOST = 'huggingface.co';
const NETWORK_TIMEOUT_MS = 1000;
const NETWORK_TTL_MS = 60_000;

export function serveModels(dir: string): Plugin {
  const middleware = modelsMiddleware(resolve(dir));
  return {
    name: 'kvshare-serve-models',
    configureServer(server) {
      server.middlewares.use(middleware);
    },
    configurePreviewServer(server) {
      server.middlewares.use(middleware);
    },
  };
}

/**
 * The `/models/` handler. A path is decoded, resolved against `root`, then its real path (symlinks
 * followed) must still lie inside the real `root`: a link out of the folder (Hugging Face caches are made
 * of links, into their own blobs/ folder) is served only when it points inside. A malformed URL or
 * escape answers 400, a path outside 403; no answer carries a stack trace or a local path.
 */
export function modelsMiddleware(root: string): Connect.NextHandleFunction {
  return (req, res, next) => {
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://x');
    } catch {
      return plain(res, 400, 'bad request');
    }
    if (!url.pathname.startsWith(MODELS_PREFIX)) return next();
    if (url.pathname === MODEL_INDEX_PATH && req.method === 'GET') {
      modelIndex(root).then(
        (index) => {
          res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' });
          res.end(JSON.stringify(index));
        },
        () => plain(res, 500, 'internal error'),
      );
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET, HEAD' }).end();
      return;
    }
    let rel: string;
    try {
      rel = decodeURIComponent(url.pathname.slice(MODELS_PREFIX.length));
    } catch {
      return plain(res, 400, 'bad request: malformed % escape');
    }
    if (rel.includes('\0')) return plain(res, 400, 'bad request');
    const file = resolve(root, rel);
    if (!file.startsWith(root + sep)) return plain(res, 403, 'forbidden');
    insideRoot(root, file)
      .then(
        (real) => {
          if (real === 'missing') return plain(res, 404, 'not found');
          if (real === 'outside') return plain(res, 403, 'forbidden');
          return serveFile(real, req, res);
        },
        () => plain(res, 500, 'internal error'),
      )
      .catch(() => {
        if (!res.headersSent) plain(res, 500, 'internal error');
        else res.destroy();
      });
  };
}

/** The real path of `file` when it lies inside the real `root`; 'missing' or 'outside' otherwise. */
async function insideRoot(root: string, file: string): Promise<string | 'missing' | 'outside'> {
  const [realRoot, real] = await Promise.all([realpath(root), realpath(file).catch(() => null)]);
  if (real === null) return 'missing';
  return real.startsWith(realRoot + sep) ? real : 'outside';
}

function plain(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'Content-Type': 'text/plain' }).end(text);
}

/** The local model folders and the network verdict. */
export async function modelIndex(root: string): Promise<ModelIndex> {
  const [models, network] = await Promise.all([localModels(root), hasNetwork()]);
  return { models, network };
}

const isGguf = (name: string) => name.toLowerCase().endsWith('.gguf');

async function localModels(root: string): Promise<string[]> {
  const dirents = await readdir(root, { withFileTypes: true }).catch(() => []);
  const names: string[] = [];
  for (const d of dirents) {
    if (d.isFile() && isGguf(d.name)) names.push(d.name);
    if (!d.isDirectory()) continue;
    const inside = await readdir(resolve(root, d.name), { withFileTypes: true }).catch(() => []);
    for (const f of inside) if (f.isFile() && isGguf(f.name)) names.push(`${d.name}/${f.name}`);
    const has = (file: string) =>
      stat(resolve(root, d.name, file)).then(
        (s) => s.isFile(),
        () => false,
      );
    // config.json and weights (a tokenizer-only folder has a config.json too).
    const isModel =
      (await has('config.json')) &&
      ((await has('model.safetensors')) || (await has('model.safetensors.index.json')));
    if (isModel) names.push(d.name);
  }
  return names.sort();
}

let networkCheck: { at: number; result: Promise<boolean> } | null = null;

/** A DNS lookup of huggingface.co that succeeds within NETWORK_TIMEOUT_MS (cached for a minute). */
function hasNetwork(): Promise<boolean> {
  if (process.env.KVSHARE_OFFLINE === '1') return Promise.resolve(false);
  const now = Date.now();
  if (networkCheck && now - networkCheck.at < NETWORK_TTL_MS) return networkCheck.result;
  const result = new Promise<boolean>((done) => {
    // A lookup that never answers must not keep the verdict (or the process) waiting.
    const timer = setTimeout(() => done(false), NETWORK_TIMEOUT_MS).unref();
    lookup(NETWORK_HOST)
      .then(
        () => done(true),
        () => done(false),
      )
      .finally(() => clearTimeout(timer));
  });
  networkCheck = { at: now, result };
  return result;
}

async function serveFile(file: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const size = await stat(file).then(
    (s) => (s.isFile() ? s.size : null),
    () => null,
  );
  if (size === null) {
    res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found');
    return;
  }
  let start = 0;
  let end = size; // exclusive
  const range = typeof req.headers.range === 'string' ? /^bytes=(\d+)-(\d*)$/.exec(req.headers.range) : null;
  if (range) {
    start = Number(range[1]);
    end = range[2] === '' ? size : Math.min(size, Number(range[2]) + 1);
    if (start >= size || end <= start) {
      res.writeHead(416, { 'Content-Range': `bytes */${size}` }).end();
      return;
    }
  }
  const headers: Record<string, string> = {
    'Content-Length': String(end - start),
    'Content-Type': file.endsWith('.json') ? 'application/json' : 'application/octet-stream',
    'Accept-Ranges': 'bytes',
    'Cache-Control': 'no-cache',
  };
  if (range) headers['Content-Range'] = `bytes ${start}-${end - 1}/${size}`;
  res.writeHead(range ? 206 : 200, headers);
  if (req.method === 'HEAD' || end === start) {
    res.end();
    return;
  }
  const stream = createReadStream(file, { start, end: end - 1, highWaterMark: 256 * 1024 });
  stream.on('error', () => res.destroy());
  res.on('close', () => stream.destroy());
  stream.pipe(res);
}
