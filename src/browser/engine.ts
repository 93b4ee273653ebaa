import type { EngineApi } from '../api/types.ts';
import { createChatApi } from '../engine/chat.ts';
import { Engine } from '../engine/engine.ts';
import { browserShaderLibrary } from '../gpu/shaders-browser.ts';
import { indexedDbCacheBackend } from './cache.ts';

/**
 * An engine on this thread's `navigator.gpu` (a page or a Web Worker), with the shaders bundled by
 * Vite and the KV cache persisted in IndexedDB. Pages should prefer `createEngine()` from src/client,
 * which runs this in a worker.
 */
export function createInThreadEngine(): EngineApi {
  return createChatApi(
    new Engine({
      gpu: async () => navigator.gpu,
      shaders: browserShaderLibrary,
      cacheBackend: indexedDbCacheBackend,
    }),
  );
}
