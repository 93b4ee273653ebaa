import type { WeightFormat } from '../ops/weight-format.ts';
import type { GgufMetadata } from './gguf/gguf-header.ts';
import type { TensorInfo } from './safetensors/safetensors.ts';
import type { HostTensor, ModelConfig, ProgressCallback } from './types.ts';
import type { WeightPrep } from './weights/prepare.ts';

/** Options and result of loadModelFiles (load.ts) and loadGgufFiles (gguf-load.ts). */
export interface LoadModelOptions {
  /** `fetch` events while weight files are read: loadedBytes never decreases and ends at totalBytes. */
  onProgress?: ProgressCallback;
  signal?: AbortSignal;
  /**
   * Called with every tensor's name, shape, dtype and byte size (sorted by name) after the headers
   * are read and before any weight data is: throw here (e.g. TensorTooLargeError) to stop the load.
   */
  checkTensors?: (infos: (TensorInfo & { format?: WeightFormat })[]) => void;
  /**
   * Awaited after every header check and before any weight data is read (e.g. load the tokenizer);
   * for a GGUF file `from.ggufMetadata` is its metadata.
   */
  beforeWeights?: (config: ModelConfig, from: { ggufMetadata?: GgufMetadata }) => Promise<void>;
  /** How tensors are kept (default: all decoded to f32); see WeightPrep. */
  prep?: WeightPrep;
  /**
   * Called with each tensor as soon as it is ready; what it returns is kept instead (e.g. the tensor
   * uploaded to the GPU, so host memory holds one tensor at a time rather than the model).
   */
  onTensor?: (t: HostTensor) => HostTensor;
  /**
   * Keep every tensor as the checkpoint holds it (safetensors only): Phi-3's fused qkv_proj /
   * gate_up_proj whole, q/k rows in their own order (see splitFused), as a converter needs them. The
   * forward pass cannot run such a map.
   */
  asStored?: boolean;
}

export interface LoadedModelFiles {
  config: ModelConfig;
  /** Every tensor in the checkpoint, decoded to f32 or packed (`prep`), keyed by its Hugging Face name. */
  tensors: Map<string, HostTensor>;
  /** Hex SHA-256 of the config, all weights and the quantization (see modelFingerprint); keys KV caches. */
  fingerprint: string;
  /** Bytes of the safetensors files (sum over shards), the total of the `fetch` progress events. */
  totalBytes: number;
  /** Bytes of the host tensors (f32 data and packed words): the total for upload progress. */
  hostBytes: number;
  location: string;
}
