import { ModelFormatError } from '../errors.ts';
import { decodeToF32 } from './dtype.ts';
import { sha256Hex } from './fingerprint.ts';
import type { SafetensorsHeader, TensorEntry } from './safetensors.ts';
import type { HostTensor } from './types.ts';

/** A decoded tensor and the SHA-256 (hex) of its raw checkpoint bytes. */
export interface StreamedTensor {
  tensor: HostTensor;
  digest: string;
}

interface Pending {
  entry: TensorEntry;
  /** Raw bytes being filled; for F32 this is a view of `f32`, so no second copy is made. */
  raw: Uint8Array;
  f32: Float32Array | null;
}

/**
 * Decodes the tensors of one safetensors file from its bytes as they arrive (`chunks` from byte 0),
 * so peak memory is the decoded tensors plus one tensor's raw bytes, never the whole file twice.
 * `onChunk` sees each chunk's length. Throws `ModelFormatError` when the stream does not have
 * exactly the header's file size.
 */
export async function decodeTensorStream(
  header: SafetensorsHeader,
  chunks: AsyncIterable<Uint8Array>,
  onChunk: (bytes: number) => void,
): Promise<StreamedTensor[]> {
  const order = header.tensors; // ascending start
  const out: StreamedTensor[] = [];
  let next = 0;
  let cur: Pending | null = null;
  let pos = 0;
  for await (const c of chunks) {
    const chunkEnd = pos + c.byteLength;
    while (next < order.length && order[next].start < chunkEnd) {
      const t = order[next];
      if (t.byteLength === 0) {
        out.push(await finish(start(t)));
        next++;
        continue;
      }
      cur ??= start(t);
      const from = Math.max(t.start, pos);
      const to = Math.min(t.end, chunkEnd);
      if (to > from) cur.raw.set(c.subarray(from - pos, to - pos), from - t.start);
      if (to < t.end) break;
      out.push(await finish(cur));
      cur = null;
      next++;
    }
    pos = chunkEnd;
    onChunk(c.byteLength);
  }
  while (next < order.length && order[next].byteLength === 0 && order[next].start <= pos) {
    out.push(await finish(start(order[next++])));
  }
  if (next < order.length || pos !== header.size) {
    throw new ModelFormatError(
      `${header.file}: read ${pos} B but its header describes a ${header.size} B file; it is truncated or changed while loading.`,
    );
  }
  return out;
}

function start(entry: TensorEntry): Pending {
  if (entry.dtype === 'F32') {
    const f32 = new Float32Array(entry.byteLength / 4);
    return { entry, raw: new Uint8Array(f32.buffer), f32 };
  }
  return { entry, raw: new Uint8Array(entry.byteLength), f32: null };
}

async function finish(p: Pending): Promise<StreamedTensor> {
  const { name, shape, dtype } = p.entry;
  const digest = await sha256Hex(p.raw);
  const data = p.f32 ?? decodeToF32(p.raw, dtype);
  checkFinite(name, data);
  return { tensor: { name, shape, dtype, data }, digest };
}

/** NaN or ±Inf in a weight poisons every answer: refuse the checkpoint (one pass, cheaper than the digest). */
function checkFinite(name: string, data: Float32Array): void {
  for (let i = 0; i < data.length; i++) {
    if (!Number.isFinite(data[i])) {
      throw new ModelFormatError(`Tensor ${name} holds a non-finite value (${data[i]}) at index ${i}.`);
    }
  }
}
