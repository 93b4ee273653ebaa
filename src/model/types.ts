import type { LoadProgress } from '../api/model.ts';
import type { WeightFormat, WeightPart } from '../ops/weight-format.ts';
import type { DType } from './weights/dtype.ts';

export type { LoadProgress, ModelConfig, QuantizeOption, RopeScaling } from '../api/model.ts';

export type { DType } from './weights/dtype.ts';

/** A 2-D weight [rows, cols] already in its GPU form: `words` as WeightFormat describes for `format`. */
export interface PackedWeight {
  format: WeightFormat;
  words: Uint32Array;
}

/** One tensor on the CPU, row-major: decoded to f32, or (2-D weights loaded for the GPU) packed. */
export interface HostTensor {
  name: string;
  shape: number[];
  /** Original dtype in the checkpoint. */
  dtype: DType;
  /** The values as f32; empty when `packed` or `gpu` holds them. */
  data: Float32Array;
  packed?: PackedWeight;
  /** A 2-D weight already uploaded as it streamed in: its GPU parts and the host bytes it had. */
  gpu?: { parts: WeightPart[]; hostBytes: number };
}

export type ProgressCallback = (p: LoadProgress) => void;
