import { canonicalConfigJson } from './config.ts';
import { longropeIsLong } from './rope-freqs.ts';
import type { ModelConfig, QuantizeOption } from './types.ts';

/** Hex SHA-256 of bytes or of a string's UTF-8, via WebCrypto (`globalThis.crypto.subtle`). */
export async function sha256Hex(data: Uint8Array | string): Promise<string> {
  const bytes = typeof data === 'string' ? new TextEncoder().encode(data) : data;
  const digest = await globalThis.crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>);
  let hex = '';
  for (const b of new Uint8Array(digest)) hex += b.toString(16).padStart(2, '0');
  return hex;
}

/**
 * One tensor's part of the fingerprint: `digest` is the hex SHA-256 of its raw checkpoint bytes;
 * `dtype` the safetensors dtype or the GGML type name (F32, F16, BF16, Q8_0, Q4_K, ...).
 */
export interface TensorDigest {
  name: string;
  shape: number[];
  dtype: string;
  digest: string;
}

/**
 * The model fingerprint used to key KV caches: hex SHA-256 over the canonical config JSON and, for
 * every tensor in sorted name order, its name, dtype, shape and the SHA-256 of its raw bytes:
 *
 *   "kvshare-model-v1\n" + canonicalConfigJson(cfg) + "\n"
 *   + for each tensor: name + "\t" + dtype + "\t" + shape.join(",") + "\t" + sha256(raw bytes) + "\n"
 *
 *   + (quantized on load only) "quantize\t" + quantize + "\n"
 *
 * Hashing each tensor first keeps memory flat (WebCrypto has no streaming digest) and makes the
 * result independent of how the checkpoint is split into shard files. Quantization is a pure
 * function of the weights, so the last line covers the quantized weights: KV entries of a quantized
 * model never mix with the full-precision model's.
 */
export async function modelFingerprint(
  cfg: ModelConfig,
  tensors: TensorDigest[],
  quantize?: QuantizeOption,
): Promise<string> {
  const sorted = [...tensors].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  let text = `kvshare-model-v1\n${canonicalConfigJson(cfg)}\n`;
  for (const t of sorted) text += `${t.name}\t${t.dtype}\t${t.shape.join(',')}\t${t.digest}\n`;
  if (quantize) text += `quantize\t${quantize}\n`;
  return sha256Hex(text);
}

/**
 * The fingerprint a runner of `contextLength` positions keys its KV entries to. Cached keys hold the
 * rotation they were computed with, and Phi-3's longrope rotates with different frequencies past its
 * original context (longropeIsLong): such a runner keys its entries to
 * SHA-256("kvshare-rope-v1\n" + fingerprint + "\nlongrope\tlong\n"), so they never meet entries
 * rotated with the short factors (a pack or IndexedDB entry of the other kind is a wrong-model entry).
 * Every other runner keeps `fingerprint` unchanged.
 */
export async function runnerFingerprint(
  fingerprint: string,
  cfg: ModelConfig,
  contextLength: number,
): Promise<string> {
  if (!longropeIsLong(cfg.ropeScaling, contextLength)) return fingerprint;
  return sha256Hex(`kvshare-rope-v1\n${fingerprint}\nlongrope\tlong\n`);
}
