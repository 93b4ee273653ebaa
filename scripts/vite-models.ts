/**
 * A Vite plugin that serves local model folders at `/models/<name>/<file>` (dev server and preview),
 * with HEAD and single-range `Range:` support, so pages load models by URL exactly as from a CDN:
 * `openModelSource('http://localhost:5173/models/stories260K-hf')`.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { resolve, sep } from 'node:path';
import type { Connect, Plugin } from 'vite';

export const MODELS_PREFIX = '/models/';

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

function modelsMiddleware(root: string): Connect.NextHandleFunction {
  return (req, res, next) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (!url.pathname.startsWith(MODELS_PREFIX)) return next();
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET, HEAD' }).end();
      return;
    }
    const rel = decodeURIComponent(url.pathname.slice(MODELS_PREFIX.length));
    const file = resolve(root, rel);
    if (!file.startsWith(root + sep)) {
      res.writeHead(403).end();
      return;
    }
    serveFile(file, req, res).catch((e: unknown) => next(e));
  };
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
