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
  let mod: typeof import('webgpu');
  try {
    mod = await import('webgpu');
  } catch (cause) {
    throw new WebGPUUnavailableError('The `webgpu` package (Dawn for Node) could not be loaded.', { cause });
  }
  Object.assign(globalThis, mod.globals);
  // Timestamps at full resolution for the per-op profile (Dawn rounds them to ~66 µs by default, a
  // browser's defence against timing attacks that a local process does not need).
  return mod.create(['disable-dawn-features=timestamp_quantization']);
}
