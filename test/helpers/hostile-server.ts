/**
 * An HTTP/1.1 server on 127.0.0.1 that misbehaves on purpose, written on raw sockets so it can lie.
 * Files are served at `/<behaviour>/<name>`; every behaviour answers HEAD and GET.
 */
import { once } from 'node:events';
import { createServer, type Socket } from 'node:net';

export const BEHAVIOURS = [
  'ok', // Content-Length, Range honoured (206)
  'no-length', // chunked transfer encoding, no Content-Length anywhere, Range ignored
  'no-range', // Content-Length, Range ignored (200 and the whole file)
  'drip', // Content-Length, the file 512 bytes every 2 ms
  'huge', // chunked, zeros without end (1 GiB) after the file's first 4 KiB (a pack's head)
  'huge-declared', // Content-Length 2 GiB, zeros
  'lying-short', // Content-Length 1000 more than sent, then the connection closes
  'lying-long', // Content-Length 10 less than the file, the whole file sent
  'cut', // Content-Length right, the connection reset halfway
  'chunked-cut', // chunked, the connection reset halfway through a chunk
  'drip-forever', // Content-Length right, one byte every 50 ms (the client must abort)
  'gzip-garbage', // Content-Encoding: gzip, bytes that are not gzip
] as const;
export type Behaviour = (typeof BEHAVIOURS)[number];

/** Bytes sent by `huge` bodies before the server stops on its own. */
const HUGE = 2 ** 30;

export interface HostileServer {
  /** `http://127.0.0.1:port/` */
  origin: string;
  /** Base URL of the files served with one behaviour (trailing slash). */
  base(b: Behaviour): string;
  close(): Promise<void>;
}

export async function serveHostile(files: Map<string, Uint8Array>): Promise<HostileServer> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    let buf = '';
    socket.on('data', (d) => {
      buf += d.toString('latin1');
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      const head = buf.slice(0, end);
      buf = buf.slice(end + 4);
      void answer(socket, head, files).catch(() => socket.destroy());
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as { port: number }).port;
  const origin = `http://127.0.0.1:${port}/`;
  return {
    origin,
    base: (b) => `${origin}${b}/`,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

async function answer(socket: Socket, head: string, files: Map<string, Uint8Array>): Promise<void> {
  const [line, ...headerLines] = head.split('\r\n');
  const [method, path] = line.split(' ');
  const range =
    headerLines
      .find((h) => h.toLowerCase().startsWith('range:'))
      ?.slice(6)
      .trim() ?? null;
  const [, behaviour, ...rest] = path.split('/');
  const file = files.get(decodeURIComponent(rest.join('/')));
  const b = behaviour as Behaviour;
  if (!file || !BEHAVIOURS.includes(b)) {
    return send(socket, 'HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n', true);
  }
  const headOnly = method === 'HEAD';
  const status = (code: number, headers: string[]) =>
    `HTTP/1.1 ${code} ${code === 206 ? 'Partial Content' : 'OK'}\r\nConnection: close\r\n${headers.map((h) => `${h}\r\n`).join('')}\r\n`;
  switch (b) {
    case 'ok': {
      const m = /^bytes=(\d+)-(\d+)?$/.exec(range ?? '');
      if (m && !headOnly) {
        const start = Number(m[1]);
        const end = Math.min(m[2] === undefined ? file.length - 1 : Number(m[2]), file.length - 1);
        if (start >= file.length)
          return send(
            socket,
            `HTTP/1.1 416 Range Not Satisfiable\r\nContent-Range: bytes */${file.length}\r\nContent-Length: 0\r\n\r\n`,
            true,
          );
        await write(
          socket,
          status(206, [
            `Content-Length: ${end - start + 1}`,
            `Content-Range: bytes ${start}-${end}/${file.length}`,
          ]),
        );
        return send(socket, file.subarray(start, end + 1), true);
      }
      await write(socket, status(200, [`Content-Length: ${file.length}`, 'Accept-Ranges: bytes']));
      return send(socket, headOnly ? '' : file, true);
    }
    case 'no-range':
      await write(socket, status(200, [`Content-Length: ${file.length}`]));
      return send(socket, headOnly ? '' : file, true);
    case 'no-length':
      await write(socket, status(200, ['Transfer-Encoding: chunked']));
      if (headOnly) return send(socket, '0\r\n\r\n', true);
      for (let at = 0; at < file.length; at += 4096) await chunk(socket, file.subarray(at, at + 4096));
      return send(socket, '0\r\n\r\n', true);
    case 'drip':
      await write(socket, status(200, [`Content-Length: ${file.length}`]));
      if (headOnly) return send(socket, '', true);
      for (let at = 0; at < file.length; at += 512) {
        if (socket.destroyed) return;
        await write(socket, file.subarray(at, at + 512));
        await sleep(2);
      }
      return send(socket, '', true);
    case 'huge': {
      await write(socket, status(200, ['Transfer-Encoding: chunked']));
      if (headOnly) return send(socket, '0\r\n\r\n', true);
      const head = file.subarray(0, 4096);
      await chunk(socket, head);
      const zeros = new Uint8Array(64 * 1024);
      for (let sent = head.length; sent < HUGE && !socket.destroyed; sent += zeros.length)
        await chunk(socket, zeros);
      return send(socket, '0\r\n\r\n', true);
    }
    case 'huge-declared': {
      await write(socket, status(200, [`Content-Length: ${2 * HUGE}`]));
      if (headOnly) return send(socket, '', true);
      const zeros = new Uint8Array(64 * 1024);
      for (let sent = 0; sent < 2 * HUGE && !socket.destroyed; sent += zeros.length)
        await write(socket, zeros);
      return send(socket, '', true);
    }
    case 'lying-short':
      await write(socket, status(200, [`Content-Length: ${file.length + 1000}`]));
      return send(socket, headOnly ? '' : file, true);
    case 'lying-long':
      await write(socket, status(200, [`Content-Length: ${Math.max(0, file.length - 10)}`]));
      return send(socket, headOnly ? '' : file, true);
    case 'cut':
      await write(socket, status(200, [`Content-Length: ${file.length}`]));
      if (headOnly) return send(socket, '', true);
      await write(socket, file.subarray(0, file.length >> 1));
      return void socket.resetAndDestroy();
    case 'chunked-cut':
      await write(socket, status(200, ['Transfer-Encoding: chunked']));
      if (headOnly) return send(socket, '0\r\n\r\n', true);
      await write(socket, `${file.length.toString(16)}\r\n`);
      await write(socket, file.subarray(0, file.length >> 1));
      return void socket.resetAndDestroy();
    case 'drip-forever':
      await write(socket, status(200, [`Content-Length: ${file.length}`]));
      if (headOnly) return send(socket, '', true);
      for (let at = 0; at < file.length && !socket.destroyed; at++) {
        await write(socket, file.subarray(at, at + 1));
        await sleep(50);
      }
      return send(socket, '', true);
    case 'gzip-garbage':
      await write(socket, status(200, ['Content-Encoding: gzip', `Content-Length: ${file.length}`]));
      return send(socket, headOnly ? '' : file, true);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Writes, waiting for the socket to drain (memory stays flat however much is sent). */
async function write(socket: Socket, data: string | Uint8Array): Promise<void> {
  if (socket.destroyed) return;
  if (!socket.write(data)) await Promise.race([once(socket, 'drain'), once(socket, 'close')]);
}

async function chunk(socket: Socket, data: Uint8Array): Promise<void> {
  await write(socket, `${data.length.toString(16)}\r\n`);
  await write(socket, data);
  await write(socket, '\r\n');
}

async function send(socket: Socket, data: string | Uint8Array, end: boolean): Promise<void> {
  await write(socket, data);
  if (end && !socket.destroyed) socket.end();
}
