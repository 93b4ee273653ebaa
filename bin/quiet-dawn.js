#!/usr/bin/env node
// Dawn (the `webgpu` package) prints "Warning: maxDynamic…PerPipelineLayout artificially reduced from
// 1000000 to 16 to fit dynamic offset allocation limit." from native code straight to file descriptor
// 2 at every device creation, where no JavaScript can intercept it. `runQuiet(cmd, args)` runs a
// command with its stderr piped through a filter that drops exactly those lines (everything else
// passes unchanged, as it arrives) and exits with the command's status. Used by bin/kvshare.js and by
// the npm test scripts: `node bin/quiet-dawn.js vitest run`.
import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import { fileURLToPath } from 'node:url';

const DAWN_LIMIT_WARNING =
  /^Warning: maxDynamic\w+PerPipelineLayout artificially reduced from \d+ to \d+ to fit dynamic offset allocation limit\.\r?$/;
const PREFIX = 'Warning: maxDynamic';

/** Whether `line` (no newline) is one of Dawn's limit warnings. */
function isDawnLimitWarning(line) {
  return DAWN_LIMIT_WARNING.test(line);
}

/** A stateful filter: feed it chunks of text, it returns what to print (whole lines, or a safe tail). */
function dawnWarningFilter() {
  let held = '';
  const keep = (line) => !isDawnLimitWarning(line);
  return {
    push(chunk) {
      const lines = (held + chunk).split('\n');
      held = lines.pop() ?? '';
      let out = lines
        .filter(keep)
        .map((l) => `${l}\n`)
        .join('');
      // A partial line that cannot become a warning is printed now (prompts, progress without \n).
      if (!(PREFIX.startsWith(held) || held.startsWith(PREFIX))) {
        out += held;
        held = '';
      }
      return out;
    },
    end() {
      const rest = keep(held) ? held : '';
      held = '';
      return rest;
    },
  };
}

/** Runs `cmd args` with stdin/stdout inherited and stderr filtered; resolves to its exit code. */
export function runQuiet(cmd, args, env = process.env) {
  const child = spawn(cmd, args, { stdio: ['inherit', 'inherit', 'pipe'], env });
  const filter = dawnWarningFilter();
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (c) => process.stderr.write(filter.push(c)));
  for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
  return new Promise((ok, fail) => {
    child.on('error', fail);
    child.on('close', (code, signal) => {
      process.stderr.write(filter.end());
      ok(code ?? 128 + (constants.signals[signal] ?? 0));
    });
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [cmd, ...args] = process.argv.slice(2);
  if (!cmd) {
    console.error('usage: node bin/quiet-dawn.js <command> [args...]');
    process.exit(2);
  }
  process.exitCode = await runQuiet(cmd, args);
}
