/**
 * Load a model onto a device: the one way the engine, the CLI (perplexity, profile) and the benches
 * build a LlamaRunner. Tensor sizes are checked against the device before any weight is read, 2-D
 * weights are packed (quantized when asked) and uploaded as they stream in, so host memory holds one
 * tensor at a time, and the host copies are let go once the runner holds its buffers.
 */
import type { GpuContext } from '../gpu/device.ts';
import type { ShaderLibrary } from '../gpu/pipelines.ts';
import { runnerFingerprint } from '../model/fingerprint.ts';
import { loadModelFiles } from '../model/load.ts';
import type { LoadModelOptions } from '../model/load-types.ts';
import type { ModelConfig, ProgressCallback, QuantizeOption } from '../model/types.ts';
import { LlamaRunner, type RunnerOptions } from './runner.ts';
import { uploadWhileStreaming } from './upload-matrix.ts';
import { checkTensorsFit } from './weights.ts';

export interface LoadRunnerOptions {
  /** Quantize 16/32-bit 2-D weights on load. */
  quantize?: QuantizeOption;
  signal?: AbortSignal;
  /** `fetch` events while weights are read, then `upload` events as the runner takes its buffers. */
  onProgress?: ProgressCallback;
  /** Awaited after the headers and before any weight is read (load the tokenizer here: a bad one fails first). */
  beforeWeights?: LoadModelOptions['beforeWeights'];
  /** The runner's options, or a function of the model's config giving them (called after beforeWeights). */
  runner?: RunnerOptions | ((config: ModelConfig) => RunnerOptions);
}

export interface LoadedRunner {
  runner: LlamaRunner;
  config: ModelConfig;
  /**
   * Keys KV cache entries to these exact weights (LoadedModelFiles) and to the runner's rotation: a
   * longrope runner past the original context has its own (runnerFingerprint).
   */
  fingerprint: string;
  /** Bytes of the weight files read, and of the host tensors uploaded. */
  totalBytes: number;
  hostBytes: number;
  location: string;
}

export async function loadRunner(
  gpu: GpuContext,
  shaders: ShaderLibrary,
  location: string,
  opts: LoadRunnerOptions = {},
): Promise<LoadedRunner> {
  const { quantize, onProgress } = opts;
  const files = await loadModelFiles(location, {
    onProgress,
    signal: opts.signal,
    checkTensors: (infos) => checkTensorsFit(infos, gpu.limits, quantize),
    prep: { keep: 'gpu', quantize }, // 2-D weights packed and uploaded as they stream in
    onTensor: uploadWhileStreaming(gpu.device, gpu.limits.maxStorageBufferBindingSize),
    beforeWeights: opts.beforeWeights,
  });
  const runnerOpts = typeof opts.runner === 'function' ? opts.runner(files.config) : (opts.runner ?? {});
  let uploaded = 0;
  const runner = LlamaRunner.build(gpu, shaders, files.config, files.tensors, {
    ...runnerOpts,
    onTensor: (tensor, bytes) => {
      uploaded += bytes;
      runnerOpts.onTensor?.(tensor, bytes);
      onProgress?.({ kind: 'upload', tensor, loadedBytes: uploaded, totalBytes: files.hostBytes });
    },
  });
  files.tensors.clear();
  const { config, totalBytes, hostBytes } = files;
  const fingerprint = await runnerFingerprint(files.fingerprint, config, runner.contextLength);
  return { runner, config, fingerprint, totalBytes, hostBytes, location: files.location };
}
