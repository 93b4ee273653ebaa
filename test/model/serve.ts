import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ServedRequest {
  method: string;
  path: string;
  range: string | null;
  status: number;
}

export interface TestServer {
  /** Base URL of the folder, with a trailing slash. */
  url: string;
  requests: ServedRequest[];
  close(): Promise<void>;
}

export interface ServeOptions {
  /** Answer every GET with the whole file (200), as servers without Range support do. */
  ignoreRange?: boolean;
  /** Answer HEAD with 405, as some static hosts do. */
  noHead?: boolean;
  /** Delay in ms before each response body chunk (to test aborts mid-download). */
  slowMs?: number;
}

/** A tiny static file server for one folder on 127.0.0.1, with single-range `Range:` support. */
export async function serveFolder(dir: string, opts: ServeOptions = {}): Promise<TestServer> {
  const requests: ServedRequest[] = [];
  const server = createServer(async (req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname).slice(1);
    const range = typeof req.headers.range === 'string' ? req.headers.range : null;
    const done = (status: number) => requests.push({ method: req.method ?? '', path, range, status });
    if (path.split('/').includes('..')) {
      res.writeHead(403).end();
      return done(403);
    }
    if (req.method === 'HEAD' && opts.noHead) {
      res.writeHead(405).end();
      return done(405);
    }
    const size = await stat(`${dir}/${path}`).then(
      (s) => (s.isFile() ? s.size : null),
      () => null,
    );
    if (size === null) {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found');
      return done(404);
    }
    let start = 0;
    let end = size; // exclusive
    let status = 200;
    const m = range && !opts.ignoreRange ? /^bytes=(\d+)-(\d*)$/.exec(range) : null;
    if (m) {
      start = Number(m[1]);
      end = m[2] === '' ? size : Math.min(size, Number(m[2]) + 1);
      if (start >= size || end <= start) {
        res.writeHead(416, { 'Content-Range': `bytes */${size}` }).end();
        return done(416);
      }
      status = 206;
    }
    const headers: Record<string, string> = {
      'Content-Length': String(end - start),
      'Content-Type': 'application/octet-stream',
      'Accept-Ranges': opts.ignoreRange ? 'none' : 'bytes',
    };
    if (status === 206) headers['Content-Range'] = `bytes ${start}-${end - 1}/${size}`;
    res.writeHead(status, headers);
    done(status);
    if (req.method === 'HEAD' || end === start) {
      res.end();
      return;
    }
    const stream = createReadStream(`${dir}/${path}`, { start, end: end - 1, highWaterMark: 64 * 1024 });
    if (opts.slowMs) {
      stream.on('data', () => {
        stream.pause();
        setTimeout(() => stream.resume(), opts.slowMs);
      });
    }
    stream.on('error', () => res.destroy());
    res.on('close', () => stream.destroy());
    stream.pipe(res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    requests,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((e) => (e ? reject(e) : resolve()));
      }),
  };
}
