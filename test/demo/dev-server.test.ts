// Issue 8, finding 8: the dev server's /models/ handler (scripts/vite-models.ts) serves real paths
// inside its folder only, and answers malformed URLs with 400 and no internals.
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { modelIndex, modelsMiddleware } from '../../scripts/vite-models.ts';

let base: string;
let root: string;
let server: Server;
let port: number;

beforeAll(async () => {
  base = await mkdtemp(join(tmpdir(), 'kvshare-devserver-'));
  root = join(base, 'assets');
  const secret = join(base, 'secret.txt');
  await writeFile(secret, 'outside the served folder');
  // A Hugging Face cache style folder: snapshots link into blobs/, both inside the served folder.
  await mkdir(join(root, 'hf', 'blobs'), { recursive: true });
  await mkdir(join(root, 'hf', 'snapshots'), { recursive: true });
  await writeFile(join(root, 'hf', 'blobs', 'abc'), '{"ok":true}');
  await symlink('../blobs/abc', join(root, 'hf', 'snapshots', 'config.json'));
  await mkdir(join(root, 'm'));
  await writeFile(join(root, 'm', 'config.json'), '{}');
  await symlink(secret, join(root, 'm', 'leak.json'));
  await symlink('/etc/passwd', join(root, 'm', 'passwd'));
  await symlink(base, join(root, 'up')); // a folder link out of the root
  const handle = modelsMiddleware(root);
  server = createServer((req, res) => handle(req as never, res, () => res.writeHead(404).end('next')));
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  port = (server.address() as AddressInfo).port;
});
afterAll(async () => {
  await new Promise((done) => server.close(done));
  await rm(base, { recursive: true, force: true });
});

/** GET a raw request path (no client-side normalisation). */
function get(path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: 'GET' }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => {
        body += c.toString();
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

const CASES: [string, number][] = [
  ['/models/m/config.json', 200],
  ['/models/hf/snapshots/config.json', 200], // a link that stays inside
  ['/models/m/leak.json', 403], // a link to a file outside
  ['/models/m/passwd', 403], // a link to /etc/passwd
  ['/models/up/secret.txt', 403], // through a folder link out of the root
  ['/models/%E0%A4%A', 400], // malformed % escape
  ['/models/%', 400],
  ['/models/m/%00', 400],
  ['/models/..%2f..%2fetc%2fpasswd', 403],
  ['/models/m/absent.json', 404],
  ['/models/%2e%2e/secret.txt', 404], // the URL parser folds %2e%2e: not under /models/, next handler
  ['/models/m/..%2f..%2f..%2fetc/passwd', 403],
  ['/models/m%2f..%2f..%2fsecret.txt', 403],
  ['/models/%252e%252e/secret.txt', 404], // double-encoded: a literal name, absent
  ['/models/m/config.json%00.png', 400],
  ['/models/m/', 404], // a folder is not a file
  ['/models//etc/passwd', 403], // an absolute path after the prefix
  ['/models/up/', 403],
  ['/models/hf/snapshots/config.json?download=1', 200],
  ['/models/m/%ZZ', 400],
  ['//models/m/config.json', 404], // not under /models/ once parsed: left to the next handler
];

describe('dev server /models/ paths', () => {
  it.each(CASES)('%s answers %i without internals', async (path, status) => {
    const r = await get(path);
    expect(r.status).toBe(status);
    expect(r.body).not.toContain(base);
    expect(r.body).not.toMatch(/at .*\(.*:\d+:\d+\)|root:x:0/);
  });
});

describe('dev server /models/index.json', () => {
  it('lists model folders and .gguf files (top level and one folder down), nothing else', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kvshare-index-'));
    try {
      await mkdir(join(dir, 'stories'));
      await writeFile(join(dir, 'stories', 'config.json'), '{}');
      await writeFile(join(dir, 'stories', 'model.safetensors'), '');
      await mkdir(join(dir, 'tokenizer-only'));
      await writeFile(join(dir, 'tokenizer-only', 'config.json'), '{}');
      await mkdir(join(dir, 'converted', 'deeper'), { recursive: true });
      await writeFile(join(dir, 'converted', 'stories-Q8_0.gguf'), '');
      await writeFile(join(dir, 'converted', 'deeper', 'too-deep.gguf'), '');
      await writeFile(join(dir, 'top.GGUF'), '');
      await writeFile(join(dir, 'notes.txt'), '');
      process.env.KVSHARE_OFFLINE = '1';
      expect(await modelIndex(dir)).toEqual({
        models: ['converted/stories-Q8_0.gguf', 'stories', 'top.GGUF'],
        network: false,
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
