import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The repository's own test assets (assets/, see assets/SOURCES.md): stories260K and its golden outputs. */
export function assetsDir(): string {
  return fileURLToPath(new URL('../../assets', import.meta.url));
}

/** An asset from $KVSHARE_ASSETS (more assets kept outside the repo, e.g. the QQP sets), or null. */
export function extraAsset(rel: string): string | null {
  const dir = process.env.KVSHARE_ASSETS;
  return dir && existsSync(`${dir}/${rel}`) ? `${dir}/${rel}` : null;
}

export function storiesDir(): string {
  return `${assetsDir()}/stories260K-hf`;
}

export function goldenPath(): string {
  return `${assetsDir()}/stories260K-golden/golden_stories260K.json`;
}
