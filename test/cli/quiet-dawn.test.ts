import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const quiet = fileURLToPath(new URL('../../bin/quiet-dawn.js', import.meta.url));
const WARNING = (limit: string) =>
  `Warning: maxDynamic${limit}BuffersPerPipelineLayout artificially reduced from 1000000 to 16 to fit dynamic offset allocation limit.`;

/** Runs `node -e script` under bin/quiet-dawn.js; `script` writes to stderr through fd 2. */
function underQuiet(script: string) {
  return spawnSync(process.execPath, [quiet, process.execPath, '-e', script], { encoding: 'utf8' });
}

describe('bin/quiet-dawn.js', () => {
  it('drops Dawn limit warnings, even split across writes, and keeps every other line in order', () => {
    const parts = [
      'first line\n',
      WARNING('Uniform').slice(0, 30),
      `${WARNING('Uniform').slice(30)}\n${WARNING('Storage')}\nWarning: something else\n`,
      'no newline at the end',
    ];
    const r = underQuiet(
      `const fs = require('node:fs'); for (const p of ${JSON.stringify(parts)}) fs.writeSync(2, p); fs.writeSync(1, 'out\\n'); process.exitCode = 3;`,
    );
    expect(r.stderr).toBe('first line\nWarning: something else\nno newline at the end');
    expect(r.stdout).toBe('out\n');
    expect(r.status).toBe(3);
  });

  it('keeps a line that only resembles the warning', () => {
    const r = underQuiet(`process.stderr.write(${JSON.stringify(`${WARNING('Uniform')} (and more)\n`)})`);
    expect(r.stderr).toBe(`${WARNING('Uniform')} (and more)\n`);
  });

  it('says how to use it when given no command', () => {
    const r = spawnSync(process.execPath, [quiet], { encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/usage: node bin\/quiet-dawn\.js <command>/);
  });
});
