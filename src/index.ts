// The package's main entry: the public vocabulary (src/api), the error classes, and the engine itself
// for platforms that bring their own WebGPU and shaders. Pages use kvshare-web/client, Node kvshare-web/node.
export type * from './api/types.ts';
export { createChatApi } from './engine/chat.ts';
export { Engine, type EngineCache, type EnginePlatform } from './engine/engine.ts';
export type { SamplingOptions } from './engine/sampler.ts';
export type {
  GenerateChunk,
  GenerateOptions,
  GenerateResult,
  GenerationStats,
  PromptInput,
} from './engine/types.ts';
export * from './errors.ts';
