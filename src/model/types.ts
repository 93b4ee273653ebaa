import type { LoadProgress } from '../api/model.ts';
import { InternalError } from '../errors.ts';
import type { WeightFormat, WeightPart } from '../ops/weight-format.ts';
import type { DType } from './weights/dtype.ts';

export type { LoadProgress, ModelConfig, QuantizeOption, RopeScaling } from '../api/model.ts';

export type { DType } from './weights/dtype.ts';

/** A 2-D weight [rows, cols] already in its GPU form: `words` as WeightFormat describes for `format`. */
export interface PackedWeight {
  format: WeightFormat;
  words: Uint32Array;
}

interface TensorHead {
  name: string;
  shape: number[];
  /** Original dtype in the checkpoint. */
  dtype: DType;
}

/** Values decoded to f32, row-major (vectors, and 2-D weights loaded for the CPU). */
export interface F32Tensor extends TensorHead {
  data: Float32Array;
  packed?: never;
  gpu?: never;
}

/** A 2-D weight already in its GPU form (16-bit bits or quantized words), not yet uploaded. */
export interface PackedTensor extends TensorHead {
  packed: PackedWeight;
  data?: never;
  gpu?: never;
}

/** A 2-D weight uploaded as it streamed in: its GPU parts and the host bytes it had. */
export interface UploadedTensor extends TensorHead {
  gpu: { parts: WeightPart[]; hostBytes: number };
  data?: never;
  packed?: never;
}

/** One tensor of a checkpoint as loaded: f32 values, packed for the GPU, or already on the GPU. */
export type HostTensor = F32Tensor | PackedTensor | UploadedTensor;

/** The f32 values of `t`; InternalError when it was loaded packed or uploaded (load with `keep: 'f32'`). */
export function f32Values(t: HostTensor): Float32Array {
  if (!t.data)
    throw new InternalError(`internal error: tensor ${t.name} holds no f32 values (packed or uploaded)`);
  return t.data;
}

/** Host bytes of a tensor as it was loaded (f32 data, packed words, or before its upload). */
export function tensorHostBytes(t: HostTensor): number {
  if (t.gpu) return t.gpu.hostBytes;
  return t.packed ? t.packed.words.byteLength : t.data.byteLength;
}

export type ProgressCallback = (p: LoadProgress) => void;
