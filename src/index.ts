export type * from './api/types.ts';
export { createChatApi } from './engine/chat.ts';
export { Engine, type EnginePlatform } from './engine/engine.ts';
export type { SamplingOptions } from './engine/sampler.ts';
export type {
  FinishReason,
  GenerateChunk,
  GenerateOptions,
  GenerateResult,
  GenerationStats,
  LoadOptions,
  ModelInfo,
  PromptInput,
} from './engine/types.ts';
export * from './errors.ts';
export type { LoadProgress, ModelConfig } from './model/types.ts';
