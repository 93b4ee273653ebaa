#!/usr/bin/env node
// Runs the compiled CLI when built (npm run build), else the TypeScript source through tsx, in a child
// process whose stderr goes through bin/quiet-dawn.js (Dawn's native limit warnings dropped).
// KVSHARE_DAWN_WARNINGS=1 shows them.
import { existsSync } from 'node:fs';
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
  if (existsSync(dist)) {
    await import(dist);
  } else {
    const { register } = await import('tsx/esm/api');
    register();
    await import('../src/cli/main.ts');
  }
}
