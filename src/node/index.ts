import { Engine } from '../engine/engine.ts';
import { nodeGPU } from '../gpu/node-gpu.ts';
import { nodeShaderLibrary } from '../gpu/shaders-node.ts';

export { nodeGPU } from '../gpu/node-gpu.ts';
export * from '../index.ts';

/** An Engine on Dawn (the `webgpu` package); picks a software Vulkan driver when no GPU is present. */
export function createNodeEngine(): Engine {
  return new Engine({ gpu: nodeGPU, shaders: nodeShaderLibrary });
}
