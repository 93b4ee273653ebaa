/**
 * The engine for pages: `createEngine()` starts a module Web Worker running the engine on the worker's
 * WebGPU device and returns the EngineApi over it. Errors keep their class (`err instanceof
 * EmptyPromptError`), AbortSignals and progress callbacks work as in-thread, and streams are async
 * iterables.
 *
 * ```ts
 * const engine = createEngine();
 * await engine.load('/models/stories260K-hf', { onProgress: (p) => console.log(p) });
 * for await (const chunk of await engine.chat.completions.create({ messages, stream: true })) {
 *   out.textContent += chunk.choices[0].delta.content;
 * }
 * ```
 */
import { type EngineClient, wrapEngine } from './remote.ts';

export type * from '../api/types.ts';
export * from '../errors.ts';
export { type EngineClient, type WrapOptions, wrapEngine } from './remote.ts';

export interface CreateEngineOptions {
  /** A worker running src/worker/worker.ts (or its own `exposeEngine(...)`); default: a new one. */
  worker?: Worker;
}

export function createEngine(options: CreateEngineOptions = {}): EngineClient {
  const worker =
    options.worker ??
    new Worker(new URL('../worker/worker.ts', import.meta.url), { type: 'module', name: 'kvshare-engine' });
  return wrapEngine(worker, {
    terminate: () => worker.terminate(),
    onFatal: (fail) =>
      worker.addEventListener('error', (ev) => {
        const detail =
          ev instanceof ErrorEvent && ev.message ? ev.message : 'it could not start (see the console)';
        fail(`The engine worker failed: ${detail}`);
        worker.terminate();
      }),
  });
}
