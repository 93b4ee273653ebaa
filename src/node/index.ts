// kvshare-web/node: the engine on Dawn (the `webgpu` package), which picks a software Vulkan driver
// when no GPU is present.
import type { EngineApi } from '../api/types.ts';
import { createChatApi } from '../engine/chat.ts';
import { Engine } from '../engine/engine.ts';
import type { EngineHooks } from '../engine/hooks.ts';
import { nodeGPU } from '../gpu/node-gpu.ts';
import { nodeShaderLibrary } from '../gpu/shaders-node.ts';

export { nodeGPU } from '../gpu/node-gpu.ts';
export * from '../index.ts';

/** The EngineApi on Dawn: the same interface as createEngine() in pages. */
export function createNodeEngine(): EngineApi {
  return createChatApi(createNodeTokenEngine());
}

/**
 * The token-level Engine on Dawn, for work with token ids (prompts as ids, generated ids, prefill-only
 * cache entries, per-request reuse statistics): the CLI, benchmarks and evaluation use it. `hooks`:
 * the evaluation's research seams (src/engine/hooks.ts).
 */
export function createNodeTokenEngine(hooks?: EngineHooks): Engine {
  return new Engine({ gpu: nodeGPU, shaders: nodeShaderLibrary }, hooks);
}
