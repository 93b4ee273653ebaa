/**
 * A Vite plugin for `npm start`: the dev server exits when the process that started it is gone.
 * npm runs the script through a shell (`sh -c vite`); a SIGTERM to npm reaches that shell, which
 * dies without passing it on, and Vite was left running, holding its port. Checked twice a second;
 * only under `npm start` (npm_lifecycle_event), so the test servers and other launchers are untouched.
 */
import type { Plugin } from 'vite';

const CHECK_MS = 500;

/** Whether a process `pid` exists (EPERM: it does, owned by someone else). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function exitWithParent(): Plugin {
  return {
    name: 'kvshare-exit-with-parent',
    apply: 'serve',
    configureServer(server) {
      if (process.env.npm_lifecycle_event !== 'start') return;
      const parent = process.ppid;
      const timer = setInterval(() => {
        if (process.ppid === parent && alive(parent)) return;
        clearInterval(timer);
        server.close().finally(() => process.exit(0));
      }, CHECK_MS);
      timer.unref();
    },
  };
}
