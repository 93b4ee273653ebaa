import { AbortError } from '../errors.ts';
import { isMultimodalGemma3, parseConfig } from './config.ts';
import { modelFingerprint, type TensorDigest } from './fingerprint.ts';
import { ggufLocation, loadGgufFiles } from './gguf/gguf-load.ts';
import { validateTensors } from './layout.ts';
import type { LoadedModelFiles, LoadModelOptions } from './load-types.ts';
import { readHeaders } from './safetensors/safetensors.ts';
import { type ModelSource, openModelSource } from './source/source.ts';
import { throwIfAborted } from './source/source-base.ts';
import { decodeTensorStream } from './source/tensor-stream.ts';
import { textModelHeaders } from './text-model.ts';
import { type HostTensor, tensorHostBytes } from './types.ts';
import { splitFused } from './weights/fused.ts';
import { withNormOffset } from './weights/norm-offset.ts';

export type { LoadedModelFiles, LoadModelOptions } from './load-types.ts';

/** `fetch` events go out at the start and end of each file and otherwise at most once per 1% or 1 MiB. */
const MAX_PROGRESS_STEP = 1 << 20;

/**
 * Loads a Hugging Face model folder or base URL, or a `.gguf` file (path or URL; see loadGgufFiles):
 * config.json, then the safetensors headers (range
 * reads only), then the caller's `checkTensors`, then the weight data one tensor at a time as it
 * streams, each kept as `opts.prep` says (prepare.ts: f32, or already in its GPU form).
 *
 * Tensor names and shapes are checked against the config from the headers, before any data is
 * read. Errors: ModelFileMissingError, ModelFormatError, UnsupportedArchitectureError, AbortError
 * (when `signal` aborts), or whatever `checkTensors` throws.
 */
export async function loadModelFiles(
  location: string | ModelSource,
  opts: LoadModelOptions = {},
): Promise<LoadedModelFiles> {
  const { signal, onProgress } = opts;
  if (typeof location === 'string' && ggufLocation(location)) return loadGgufFiles(location, opts);
  const source = typeof location === 'string' ? openModelSource(location) : location;
  throwIfAborted(signal);

  const json = await source.readJson('config.json', signal);
  const config = parseConfig(json);
  // Gemma 3's multimodal folders: the text model alone (text-model.ts)
  const multimodal = config.modelType === 'gemma3' && isMultimodalGemma3(json);
  const headers = multimodal
    ? textModelHeaders(await readHeaders(source, signal))
    : await readHeaders(source, signal);
  validateTensors(config, headers.tensors);
  throwIfAborted(signal);
  opts.checkTensors?.(
    headers.tensors.map((t) => ({
      name: t.name,
      shape: [...t.shape],
      dtype: t.dtype,
      byteLength: t.byteLength,
    })),
  );
  throwIfAborted(signal);
  await opts.beforeWeights?.(config, {});
  throwIfAborted(signal);

  const totalBytes = headers.totalBytes;
  const tensors = new Map<string, HostTensor>();
  const digests: TensorDigest[] = [];
  let hostBytes = 0;
  let loaded = 0;
  let reported = -1;
  const step = Math.min(MAX_PROGRESS_STEP, Math.ceil(totalBytes / 100));
  const report = (file: string, force: boolean) => {
    if (!onProgress || (!force && loaded - reported < step)) return;
    reported = loaded;
    onProgress({ kind: 'fetch', file, loadedBytes: loaded, totalBytes });
  };
  for (const h of headers.files) {
    const fileEnd = loaded + h.size;
    report(h.file, true);
    const onChunk = (n: number) => {
      loaded += n;
      report(h.file, loaded === fileEnd);
      throwIfAborted(signal);
    };
    const streamed = await decodeTensorStream(
      h,
      source.readStream(h.file, signal),
      onChunk,
      opts.prep,
      opts.asStored ? opts.onTensor : (t) => (opts.onTensor ?? ((x) => x))(withNormOffset(config, t)),
      (t) => (opts.asStored ? [t] : splitFused(config, t)),
    );
    for (const { entry, tensors: parts, digest } of streamed) {
      for (const t of parts) {
        tensors.set(t.name, t);
        hostBytes += tensorHostBytes(t);
      }
      digests.push({ name: entry.name, shape: entry.shape, dtype: entry.dtype, digest });
    }
  }
  if (signal?.aborted) throw new AbortError();

  const fingerprint = await modelFingerprint(config, digests, opts.prep?.quantize);
  return { config, tensors, fingerprint, totalBytes, hostBytes, location: source.location };
}
