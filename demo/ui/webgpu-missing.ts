/** The screen shown instead of the demo when this browser cannot run WebGPU. */
import type { WebGPUCheck } from '../webgpu-check.ts';
import { el } from './dom.ts';

export function showWebGPUMissing(host: HTMLElement, check: Extract<WebGPUCheck, { ok: false }>): void {
  const steps = el('ol', {}, [
    el('li', {}, [
      el('strong', { text: 'Use a recent Chrome or Edge' }),
      ' (version 113 or later) on Windows, macOS or ChromeOS; Safari 26 and Firefox 141 on Windows also have WebGPU.',
    ]),
    el('li', {}, [
      el('strong', { text: 'Turn WebGPU on' }),
      ' if it is off: open ',
      el('code', { text: 'chrome://flags/#enable-unsafe-webgpu' }),
      ', set it to Enabled, and restart the browser. Also check that ',
      el('code', { text: 'chrome://settings/system' }),
      ' has “Use graphics acceleration” on.',
    ]),
    el('li', {}, [
      el('strong', { text: 'Update your GPU drivers' }),
      ': browsers turn WebGPU off for drivers on their blocklist (see ',
      el('code', { text: 'chrome://gpu' }),
      ').',
    ]),
    el('li', {}, [
      el('strong', { text: 'On Linux' }),
      ', start Chrome or Chromium with ',
      el('code', { text: '--enable-unsafe-webgpu' }),
      ' ',
      el('code', { text: '--enable-features=Vulkan' }),
      ' (and a Vulkan driver for your GPU).',
    ]),
  ]);
  const screen = el(
    'section',
    { class: 'webgpu-missing', testid: 'webgpu-missing', attrs: { role: 'alert' } },
    [
      el('h2', { text: 'This browser cannot run the model: WebGPU is not available' }),
      el('p', {
        text: 'KVShare-Web runs the language model on your own GPU through WebGPU, so nothing you type leaves this page. To try it:',
      }),
      steps,
      el('p', {
        class: 'detail',
        testid: 'webgpu-missing-detail',
        text: `What the page found: ${check.detail}`,
      }),
    ],
  );
  screen.dataset.reason = check.reason;
  host.replaceChildren(screen);
}
