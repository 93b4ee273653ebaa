/**
 * Checks on the page, before any engine is created, that this browser can run WebGPU: the API
 * exists and an adapter is granted. (The engine's worker asks for its own adapter; a browser that
 * grants one here grants one there.)
 */

export type WebGPUCheck =
  | { ok: true; adapter: string }
  | { ok: false; reason: 'no-api' | 'no-adapter' | 'error'; detail: string };

export async function checkWebGPU(): Promise<WebGPUCheck> {
  if (!window.isSecureContext) {
    return {
      ok: false,
      reason: 'no-api',
      detail: 'This page is not a secure context: WebGPU needs https:// or http://localhost.',
    };
  }
  const gpu = (navigator as Navigator & { gpu?: GPU }).gpu;
  if (!gpu) return { ok: false, reason: 'no-api', detail: 'This browser has no WebGPU (navigator.gpu).' };
  try {
    const adapter = await gpu.requestAdapter();
    if (!adapter) {
      return {
        ok: false,
        reason: 'no-adapter',
        detail: 'WebGPU is present but gave no GPU adapter (requestAdapter() returned null).',
      };
    }
    const info = adapter.info;
    const name = [info?.vendor, info?.architecture || info?.device].filter((s) => s).join(' / ');
    return { ok: true, adapter: name || 'unknown adapter' };
  } catch (e) {
    return { ok: false, reason: 'error', detail: `requestAdapter() failed: ${String(e)}` };
  }
}
