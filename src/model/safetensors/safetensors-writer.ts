import type { DType } from '../types.ts';
import { DTYPE_BYTES, encodeFromF32 } from '../weights/dtype.ts';

/** One tensor to write; `values(start, count)` returns elements [start, start + count) as f32. */
export interface TensorSpec {
  name: string;
  shape: number[];
  dtype: DType;
  values: (start: number, count: number) => Float32Array;
}

/** Elements produced and written at a time, so memory stays flat for any tensor size. */
const CHUNK_ELEMENTS = 1 << 20;

export function elementCount(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

export function tensorBytes(t: { shape: number[]; dtype: DType }): number {
  return elementCount(t.shape) * DTYPE_BYTES[t.dtype];
}

/**
 * The 8-byte little-endian header length followed by the JSON header, padded with spaces to a
 * multiple of 8 (as the reference writer does). Tensors are laid out in the order given.
 */
export function buildSafetensorsHeader(
  tensors: { name: string; shape: number[]; dtype: DType }[],
  metadata: Record<string, string> = { format: 'pt' },
): Uint8Array {
  const header: Record<string, unknown> = { __metadata__: metadata };
  let offset = 0;
  for (const t of tensors) {
    const n = tensorBytes(t);
    header[t.name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + n] };
    offset += n;
  }
  let json = JSON.stringify(header);
  const len = new TextEncoder().encode(json).byteLength;
  json += ' '.repeat((8 - ((8 + len) % 8)) % 8);
  const body = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + body.byteLength);
  new DataView(out.buffer).setBigUint64(0, BigInt(body.byteLength), true);
  out.set(body, 8);
  return out;
}

/**
 * Writes one .safetensors file (Node only), producing and encoding each tensor chunk by chunk so a
 * large checkpoint never needs to be held in memory. Returns the file size in bytes.
 */
export async function writeSafetensorsFile(
  path: string,
  tensors: TensorSpec[],
  metadata?: Record<string, string>,
): Promise<number> {
  const fs = await import('node:fs/promises');
  const header = buildSafetensorsHeader(tensors, metadata);
  const fh = await fs.open(path, 'w');
  let size = 0;
  try {
    await fh.write(header);
    size += header.byteLength;
    for (const t of tensors) {
      const n = elementCount(t.shape);
      for (let start = 0; start < n; start += CHUNK_ELEMENTS) {
        const count = Math.min(CHUNK_ELEMENTS, n - start);
        const vals = t.values(start, count);
        if (vals.length !== count)
          throw new RangeError(`${t.name}: values() gave ${vals.length}, not ${count}`);
        const bytes = encodeFromF32(vals, t.dtype);
        await fh.write(bytes);
        size += bytes.byteLength;
      }
    }
  } finally {
    await fh.close();
  }
  return size;
}

/** Splits tensors (in order) into `shards` runs of roughly equal bytes, none empty. */
export function splitShards<T extends { shape: number[]; dtype: DType }>(
  tensors: T[],
  shards: number,
): T[][] {
  if (!Number.isInteger(shards) || shards < 1 || shards > tensors.length) {
    throw new RangeError(`Cannot split ${tensors.length} tensors into ${shards} shards.`);
  }
  const total = tensors.reduce((s, t) => s + tensorBytes(t), 0);
  const out: T[][] = [[]];
  let cum = 0;
  tensors.forEach((t, i) => {
    const s = out.length - 1;
    const mustMove = tensors.length - i <= shards - 1 - s;
    const full = cum >= (total * (s + 1)) / shards;
    if (s < shards - 1 && out[s].length > 0 && (full || mustMove)) out.push([]);
    out[out.length - 1].push(t);
    cum += tensorBytes(t);
  });
  return out;
}

/** `model-00002-of-00005.safetensors` */
export function shardFileName(i: number, n: number): string {
  const pad = (k: number) => String(k).padStart(5, '0');
  return `model-${pad(i + 1)}-of-${pad(n)}.safetensors`;
}
