import { spawn } from 'node:child_process';

export interface ChildRun {
  code: number | null;
  signal: string | null;
  timedOut: boolean;
  ms: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs `node <script> ...args` (this Node, with its flags, e.g. `--import tsx` from the sources),
 * killing it with SIGKILL after `timeoutMs`; stdout and stderr are kept, and passed on to ours as they
 * come when `echo` is set. `group`: the child leads a process group of its own and the kill takes the
 * whole group (the check starts each part so; a part's own children stay in the part's group and die
 * with it).
 */
export function runNode(
  script: string,
  args: string[],
  timeoutMs: number,
  opts: { echo?: boolean; group?: boolean } = {},
): Promise<ChildRun> {
  const { echo = true, group = false } = opts;
  const t0 = performance.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...process.execArgv, script, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: group,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => {
      stdout += b;
      if (echo) process.stdout.write(b);
    });
    child.stderr.on('data', (b: Buffer) => {
      stderr += b;
      if (echo) process.stderr.write(b);
    });
    let timedOut = false;
    const timer = setTimeout(
      () => {
        timedOut = true;
        try {
          if (group) process.kill(-child.pid!, 'SIGKILL');
          else child.kill('SIGKILL');
        } catch {
          // already gone
        }
      },
      Math.max(1, timeoutMs),
    );
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, timedOut, ms: Math.round(performance.now() - t0), stdout, stderr });
    });
  });
}

/** The last `n` lines of a text (for a report: what a failed child said last). */
export function tail(text: string, n = 15): string {
  return text.trimEnd().split('\n').slice(-n).join('\n');
}
