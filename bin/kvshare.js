#!/usr/bin/env node
// Runs the compiled CLI when built (npm run build), else the TypeScript source through tsx, in a child
// process whose stderr goes through bin/quiet-dawn.js (Dawn's native limit warnings dropped).
// KVSHARE_DAWN_WARNINGS=1 shows them. In a checkout whose src/ or shaders/ changed after the last
// build, the sources run (with a note on stderr) instead of the stale dist/.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runQuiet } from './quiet-dawn.js';

const CHILD = 'KVSHARE_CLI_CHILD';

if (process.env[CHILD] !== '1' && process.env.KVSHARE_DAWN_WARNINGS !== '1') {
  const self = fileURLToPath(import.meta.url);
  process.exitCode = await runQuiet(process.execPath, [self, ...process.argv.slice(2)], {
    ...process.env,
    [CHILD]: '1',
  });
} else {
  const dist = fileURLToPath(new URL('../dist/src/cli/main.js', import.meta.url));
  if (existsSync(dist) && !distIsStale(dist)) {
    await import(dist);
  } else {
    // tsx is a devDependency: a checkout has it after `npm install`; the published package runs dist/.
    const tsx = await import('tsx/esm/api').catch(() => null);
    if (!tsx) {
      process.stderr.write(
        'kvshare: dist/ is not built and tsx is not installed: run `npm install` or `npm run build`\n',
      );
      process.exit(1);
    }
    tsx.register();
    await import('../src/cli/main.ts');
  }
}

/** True in a source checkout whose src/ or shaders/ holds a file newer than the built CLI. */
function distIsStale(dist) {
  const root = fileURLToPath(new URL('..', import.meta.url));
  if (!existsSync(join(root, 'src', 'cli', 'main.ts'))) return false;
  const built = statSync(dist).mtimeMs;
  const newer = ['src', 'shaders'].some((dir) => newestMtime(join(root, dir)) > built);
  if (newer)
    process.stderr.write(
      'kvshare: dist/ is older than src/ or shaders/; running the sources (npm run build refreshes dist/)\n',
    );
  return newer;
}

function newestMtime(dir) {
  if (!existsSync(dir)) return 0;
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs);
  }
  return newest;
}
