import { existsSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebGPUUnavailableError } from '../errors.ts';

/** Software Vulkan drivers tried in order when no GPU is present (docs/DESIGN.md, WebGPU without a GPU). */
const SOFTWARE_ICDS = [
  '/usr/share/vulkan/icd.d/lvp_icd.json', // lavapipe (Mesa llvmpipe), ~5x SwiftShader
  '/usr/share/vulkan/icd.d/lvp_icd.x86_64.json',
  '/usr/lib/chromium/vk_swiftshader_icd.json', // SwiftShader from Debian's chromium
];

function hasHardwareGpu(): boolean {
  return existsSync('/dev/nvidia0') || existsSync('/dev/dri/renderD128');
}

/** What kvshare uses of the `webgpu` package (declared here so the shipped types need no `webgpu`). */
export interface DawnModule {
  globals: object;
  create(flags: string[]): GPU;
}

/** The package kvshare-web/node and the CLI run WebGPU on: an optional peer dependency. */
export const DAWN_PACKAGE = 'webgpu';

/**
 * Imports Dawn (`specifier`: the `webgpu` package; tests point it at a module that is not installed).
 * A missing package is a WebGPUUnavailableError naming it and the command that installs it; a package
 * that is there but fails to load (e.g. no prebuilt addon for this platform) says so with the cause.
 */
export async function loadDawn(specifier: string = DAWN_PACKAGE): Promise<DawnModule> {
  try {
    return (await import(specifier)) as DawnModule;
  } catch (cause) {
    const code = (cause as { code?: unknown } | null)?.code;
    if (code === 'ERR_MODULE_NOT_FOUND' && String((cause as Error).message).includes(`'${specifier}'`)) {
      throw new WebGPUUnavailableError(
        `kvshare-web/node and the kvshare CLI run WebGPU through the \`${specifier}\` package (Dawn for Node), an optional peer dependency that is not installed: run \`npm install ${specifier}\`.`,
        { cause },
      );
    }
    throw new WebGPUUnavailableError(
      `The \`${specifier}\` package (Dawn for Node) is installed but could not be loaded.`,
      {
        cause,
      },
    );
  }
}

/**
 * The Dawn-backed `GPU` object for Node. When VK_ICD_FILENAMES is unset and no GPU
 * device node exists, it picks a software Vulkan driver by itself.
 */
export async function nodeGPU(): Promise<GPU> {
  if (!process.env.VK_ICD_FILENAMES && !hasHardwareGpu()) {
    const icd = SOFTWARE_ICDS.find((p) => existsSync(p));
    if (icd) process.env.VK_ICD_FILENAMES = icd;
  }
  if (!process.env.XDG_RUNTIME_DIR) {
    const dir = join(tmpdir(), 'kvshare-xdg');
    mkdirSync(dir, { recursive: true });
    process.env.XDG_RUNTIME_DIR = dir;
  }
  const mod = await loadDawn();
  Object.assign(globalThis, mod.globals);
  // Timestamps at full resolution for the per-op profile (Dawn rounds them to ~66 µs by default, a
  // browser's defence against timing attacks that a local process does not need).
  return mod.create(['disable-dawn-features=timestamp_quantization']);
}
