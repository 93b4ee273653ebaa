import type { LoadProgress } from '../api/model.ts';

export type { LoadProgress, ModelConfig } from '../api/model.ts';

export type DType = 'F32' | 'F16' | 'BF16';

/** One tensor decoded to f32 on the CPU, row-major. */
export interface HostTensor {
  name: string;
  shape: number[];
  /** Original dtype in the checkpoint (data is always converted to f32). */
  dtype: DType;
  data: Float32Array;
}

export type ProgressCallback = (p: LoadProgress) => void;
