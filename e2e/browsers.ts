/**
 * The browsers the suites run in (playwright.config.ts projects). Never a downloaded browser:
 * Debian's chromium (`apt-get install chromium`, see .ci/run) with WebGPU on SwiftShader, or, for the
 * `gpu` project, a Chrome/Chromium named by KVSHARE_GPU_CHROME that has WebGPU on a real GPU.
 */
export const CHROMIUM = process.env.KVSHARE_CHROMIUM ?? '/usr/bin/chromium';

const QUIET = [
  '--no-sandbox',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

/** WebGPU on SwiftShader's Vulkan: no GPU needed. */
export const CHROMIUM_ARGS = [
  '--enable-unsafe-webgpu',
  '--enable-features=Vulkan',
  '--use-vulkan=swiftshader',
  '--use-webgpu-adapter=swiftshader',
  ...QUIET,
];

/** A real GPU: WebGPU switched on (a no-op where it already is), the GPU process free to use it. */
export const GPU_CHROME_ARGS = ['--enable-unsafe-webgpu', '--enable-gpu', '--ignore-gpu-blocklist', ...QUIET];

/**
 * Chromium with WebGPU switched off: no WebGPU flags, and the feature disabled. Debian's chromium
 * then still has `navigator.gpu`, but `requestAdapter()` resolves to null (checked on chromium 156).
 */
export const CHROMIUM_ARGS_NO_WEBGPU = ['--disable-features=WebGPU', ...QUIET];
