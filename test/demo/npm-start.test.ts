// `npm start` stops everything it started: a SIGTERM to npm (which runs `sh -c vite`) used to leave
// Vite running and holding its port (issue 22). The dev server must let go of its port promptly.
import { type ChildProcess, spawn } from 'node:child_process';
import { connect, createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';

const projectRoot = fileURLToPath(new URL('../..', import.meta.url));

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((ok) => srv.listen(0, '127.0.0.1', ok));
  const { port } = srv.address() as { port: number };
  await new Promise<void>((ok) => srv.close(() => ok()));
  return port;
}

/** Whether something accepts connections on 127.0.0.1:`port`. */
function listening(port: number): Promise<boolean> {
  return new Promise((done) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      done(true);
    });
    s.once('error', () => done(false));
  });
}

async function waitFor(check: () => Promise<boolean>, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 200));
  }
  return check();
}

let npm: ChildProcess | null = null;

afterEach(() => {
  if (npm?.exitCode === null) npm.kill('SIGKILL');
});

describe('npm start', () => {
  it('a SIGTERM to npm stops the Vite server it started (its port is free again)', async () => {
    const port = await freePort();
    npm = spawn('npm', ['start', '--', '--port', String(port), '--strictPort', '--host', '127.0.0.1'], {
      cwd: projectRoot,
      env: { ...process.env, KVSHARE_OFFLINE: '1' },
      stdio: 'ignore',
    });
    expect(await waitFor(() => listening(port), 60_000)).toBe(true);
    npm.kill('SIGTERM');
    expect(await waitFor(async () => !(await listening(port)), 10_000)).toBe(true);
  }, 90_000);
});
