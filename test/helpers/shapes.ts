import type { ModelConfig } from '../../src/model/types.ts';

/** SmolLM2-135M's shape, all the cost model and the planner read of a config. */
export const SMOLLM2_SHAPE = {
  hiddenSize: 576,
  intermediateSize: 1536,
  numLayers: 30,
  numHeads: 9,
  numKvHeads: 3,
  headDim: 64,
} as ModelConfig;
