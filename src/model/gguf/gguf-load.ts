import { ModelFormatError } from '../../errors.ts';
import type { QuantFormat, WeightFormat } from '../../ops/weight-format.ts';
import { modelFingerprint, sha256Hex, type TensorDigest } from '../fingerprint.ts';
import { validateTensors } from '../layout.ts';
import type { LoadedModelFiles, LoadModelOptions } from '../load-types.ts';
import { type ModelSource, openModelSource } from '../source/source.ts';
import { throwIfAborted } from '../source/source-base.ts';
import { type HostTensor, tensorHostBytes } from '../types.ts';
import { splitFused } from '../weights/fused.ts';
import { prepareTensor, type WeightPrep } from '../weights/prepare.ts';
import { repackQ6K } from '../weights/q6k.ts';
import { dequantizeGgml, GGML_GPU_FORMAT, GGML_TYPES, repackGgml } from './gguf-blocks.ts';
import {
  type GgufTensor,
  ggufConfig,
  ggufRopeScaling,
  ggufRopeTensors,
  ggufTensors,
  unpermuteRows,
} from './gguf-config.ts';
import { readGgufHeader } from './gguf-header.ts';

/**
 * `x.gguf` (a path or URL whose path ends in .gguf) as the folder or base URL it sits in and its
 * file name; null for any other location.
 */
export function ggufLocation(location: string): { base: string; file: string } | null {
  const path = location.replace(/[?#].*$/, '');
  if (!/\.gguf$/i.test(path)) return null;
  const cut = Math.max(path.lastIndexOf('/'), path.lastIndexOf('\\'));
  return { base: cut < 0 ? '.' : path.slice(0, cut + 1), file: path.slice(cut + 1) };
}

/** `fetch` events at most once per 1 MiB or 1% (and at the start and end). */
const MAX_PROGRESS_STEP = 1 << 20;

/**
 * Loads a GGUF file (architectures llama, qwen2 and qwen3): the header with range reads, the config from
 * its metadata (and llama's `rope_freqs.weight`, read first), every check (types, names, shapes, `checkTensors`, `beforeWeights`), then each tensor's
 * bytes with one range read each, converted (see GGML_GPU_FORMAT) and handed to `onTensor` before the
 * next is read. llama's attn_q / attn_k rows are put back into Hugging Face order first.
 *
 * The fingerprint hashes each tensor's bytes in that order under its GGML type name, so an F32 GGUF
 * of a checkpoint has the safetensors model's digests, and a quantized one never does.
 */
export async function loadGgufFiles(
  location: string,
  opts: LoadModelOptions = {},
): Promise<LoadedModelFiles> {
  const { signal, onProgress } = opts;
  const where = ggufLocation(location);
  if (!where) throw new ModelFormatError(`${location} is not a .gguf file.`);
  const source: ModelSource = openModelSource(where.base);
  const header = await readGgufHeader(source, where.file, signal);
  let config = ggufConfig(header);
  const ropeValues = new Map<string, number[]>();
  for (const [name, at] of ggufRopeTensors(header, config)) {
    const raw = await source.readRange(where.file, at.start, at.start + at.byteLength, signal);
    ropeValues.set(name, [...new Float32Array(raw.slice().buffer)]);
  }
  const ropeScaling = ggufRopeScaling(header, config, ropeValues);
  if (ropeScaling) config = { ...config, ropeScaling };
  const tensors = ggufTensors(header, config);
  validateTensors(config, tensors);
  throwIfAborted(signal);
  const prep = opts.prep ?? { keep: 'f32' };
  opts.checkTensors?.(
    [...tensors]
      .sort((a, b) => (a.name < b.name ? -1 : 1))
      .map((t) => ({
        name: t.name,
        shape: [...t.shape],
        dtype: 'F32' as const,
        byteLength: t.byteLength,
        format: gpuFormat(t, prep),
      })),
  );
  throwIfAborted(signal);
  await opts.beforeWeights?.(config, { ggufMetadata: header.metadata });
  throwIfAborted(signal);

  const totalBytes = tensors.reduce((a, t) => a + t.byteLength, 0);
  const step = Math.min(MAX_PROGRESS_STEP, Math.ceil(totalBytes / 100));
  let loaded = 0;
  let reported = -1;
  const report = (force: boolean) => {
    if (!onProgress || (!force && loaded - reported < step)) return;
    reported = loaded;
    onProgress({ kind: 'fetch', file: where.file, loadedBytes: loaded, totalBytes });
  };
  report(true);
  const out = new Map<string, HostTensor>();
  const digests: TensorDigest[] = [];
  let hostBytes = 0;
  for (const t of tensors) {
    let raw = await source.readRange(where.file, t.start, t.start + t.byteLength, signal);
    if (t.permuteHeads) raw = unpermuteRows(raw, t.shape[0], t.permuteHeads);
    loaded += t.byteLength;
    report(loaded === totalBytes);
    const dtype = GGML_TYPES[t.type].name;
    digests.push({ name: t.name, shape: t.shape, dtype, digest: await sha256Hex(raw) });
    for (const part of splitFused(config, { name: t.name, shape: t.shape, raw })) {
      const host = (opts.onTensor ?? ((x: HostTensor) => x))(
        prepareGgufTensor(part.raw, { ...t, ...part }, prep),
      );
      hostBytes += tensorHostBytes(host);
      out.set(part.name, host);
    }
    throwIfAborted(signal);
  }
  const fingerprint = await modelFingerprint(config, digests, prep.quantize);
  return { config, tensors: out, fingerprint, totalBytes, hostBytes, location };
}

/** The GPU format a tensor gets: 1-D ones f32; float ones quantized when asked; else GGML_GPU_FORMAT. */
function gpuFormat(t: GgufTensor, prep: WeightPrep): WeightFormat {
  if (t.shape.length !== 2 || prep.keep === 'f32') return 'f32';
  const own = GGML_GPU_FORMAT[GGML_TYPES[t.type].name];
  if (prep.quantize && (own === 'f16' || own === 'bf16' || GGML_TYPES[t.type].name === 'F32'))
    return prep.quantize;
  return own;
}

/**
 * One GGUF tensor's bytes (Hugging Face row order) as a HostTensor: float types as prepareTensor keeps
 * safetensors ones (quantized on load when asked); quantized 2-D weights re-packed for the GPU in
 * their own format (`keep: 'gpu'`; quantize-on-load leaves them as they are), else dequantized to f32.
 */
function prepareGgufTensor(raw: Uint8Array, t: GgufTensor, prep: WeightPrep): HostTensor {
  const type = GGML_TYPES[t.type].name;
  if (type === 'F32' || type === 'F16' || type === 'BF16') {
    return prepareTensor(raw, { name: t.name, shape: t.shape, dtype: type }, prep);
  }
  const [rows, cols] = t.shape.length === 2 ? t.shape : [1, t.shape[0]];
  const format = gpuFormat(t, prep);
  const base = { name: t.name, shape: t.shape, dtype: 'F32' as const };
  if (format === 'q6k')
    return {
      ...base,
      packed: { format, words: repackQ6K(t.ggufName, raw, rows, cols) },
    };
  if (format !== 'f32') {
    const words = repackGgml(t.ggufName, raw, t.type, rows, cols);
    return { ...base, packed: { format: format as QuantFormat, words } };
  }
  const data = dequantizeGgml(raw, t.type, rows * cols);
  for (let i = 0; i < data.length; i++) {
    if (!Number.isFinite(data[i])) {
      throw new ModelFormatError(`Tensor ${t.ggufName} holds a non-finite value (${data[i]}) at index ${i}.`);
    }
  }
  return { ...base, data };
}
