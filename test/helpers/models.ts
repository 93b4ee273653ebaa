import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The shared test assets: $KVSHARE_ASSETS, else ../shared/assets beside the repo. */
export function assetsDir(): string {
  const dir = process.env.KVSHARE_ASSETS ?? fileURLToPath(new URL('../../../shared/assets', import.meta.url));
  if (!existsSync(dir)) throw new Error(`test assets not found at ${dir} (set KVSHARE_ASSETS)`);
  return dir;
}

export function storiesDir(): string {
  return `${assetsDir()}/stories260K-hf`;
}

export function goldenPath(): string {
  return `${assetsDir()}/stories260K-golden/golden_stories260K.json`;
}
