import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

// A fake checkout inside the repo's tmp/ (so tsx resolves from the repo's node_modules) with
// bin/kvshare.js, a "built" dist CLI and a "source" CLI that each print who they are.
const repo = fileURLToPath(new URL('../../', import.meta.url));
mkdirSync(join(repo, 'tmp'), { recursive: true });
const root = mkdtempSync(join(repo, 'tmp', 'bin-stale-'));
for (const dir of ['bin', 'src/cli', 'dist/src/cli', 'shaders'])
  mkdirSync(join(root, dir), { recursive: true });
for (const file of ['kvshare.js', 'quiet-dawn.js'])
  copyFileSync(join(repo, 'bin', file), join(root, 'bin', file));
writeFileSync(join(root, 'dist/src/cli/main.js'), "console.log('dist');\n");
writeFileSync(join(root, 'src/cli/main.ts'), "const who: string = 'src';\nconsole.log(who);\n");
writeFileSync(join(root, 'shaders/x.wgsl'), '// shader\n');
afterAll(() => rmSync(root, { recursive: true, force: true }));

function setAge(path: string, secondsAgo: number): void {
  const t = Date.now() / 1000 - secondsAgo;
  utimesSync(join(root, path), t, t);
}

function run() {
  return spawnSync(process.execPath, [join(root, 'bin/kvshare.js')], { encoding: 'utf8' });
}

describe('bin/kvshare.js picks the CLI to run', () => {
  it('runs dist/ when it is newer than src/ and shaders/', () => {
    setAge('src/cli/main.ts', 100);
    setAge('shaders/x.wgsl', 100);
    setAge('dist/src/cli/main.js', 10);
    const r = run();
    expect(r.stdout).toBe('dist\n');
    expect(r.stderr).toBe('');
  });

  it('runs the sources, and says so, when a shader changed after the build', () => {
    setAge('shaders/x.wgsl', 1);
    const r = run();
    expect(r.stdout).toBe('src\n');
    expect(r.stderr).toMatch(/dist\/ is older than src\/ or shaders\/; running the sources/);
  });
});
