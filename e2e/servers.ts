/**
 * The two dev servers playwright.config.ts starts (webServer) before the suites: the chat demo
 * (demo/) and the test pages (e2e/pages/). Ports from KVSHARE_E2E_PORT (the demo's; the pages get
 * the next one), so two checkouts can run side by side.
 */
const base = Number(process.env.KVSHARE_E2E_PORT ?? '41731');
if (!Number.isInteger(base) || base < 1024 || base > 65534) {
  throw new Error(`KVSHARE_E2E_PORT must be a port from 1024 to 65534, got ${process.env.KVSHARE_E2E_PORT}`);
}

export const DEMO_PORT = base;
export const PAGES_PORT = base + 1;
/** The demo server's origin (a secure context, as WebGPU requires). */
export const DEMO_ORIGIN = `http://127.0.0.1:${DEMO_PORT}`;
export const PAGES_ORIGIN = `http://127.0.0.1:${PAGES_PORT}`;
