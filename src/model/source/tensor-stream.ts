import { ModelFormatError } from '../../errors.ts';
import { sha256Hex } from '../fingerprint.ts';
import type { SafetensorsHeader, TensorEntry } from '../safetensors/safetensors.ts';
import type { HostTensor } from '../types.ts';
import type { RawTensor } from '../weights/fused.ts';
import { prepareTensor, type WeightPrep } from '../weights/prepare.ts';

/** A checkpoint tensor, decoded (one tensor, or the parts `split` cut it into), and the SHA-256 (hex) of its raw bytes. */
export interface StreamedTensor {
  entry: TensorEntry;
  tensors: HostTensor[];
  digest: string;
}

interface Pending {
  entry: TensorEntry;
  /** Raw bytes being filled (their own 4-byte aligned buffer, so F32 data is a view of it). */
  raw: Uint8Array;
}

/**
 * Decodes the tensors of one safetensors file from its bytes as they arrive (`chunks` from byte 0),
 * so peak memory is the decoded tensors plus one tensor's raw bytes, never the whole file twice.
 * Each tensor is cut by `split` (default: kept whole; see splitFused), each part kept as `prep` says
 * (prepareTensor: f32, or 2-D weights in their GPU form), then handed to `onTensor`, whose result is kept.
 * `onChunk` sees each chunk's length. Throws `ModelFormatError` when the stream does not have
 * exactly the header's file size.
 */
export async function decodeTensorStream(
  header: SafetensorsHeader,
  chunks: AsyncIterable<Uint8Array>,
  onChunk: (bytes: number) => void,
  prep: WeightPrep = { keep: 'f32' },
  onTensor: (t: HostTensor) => HostTensor = (t) => t,
  split: (t: RawTensor) => RawTensor[] = (t) => [t],
): Promise<StreamedTensor[]> {
  const done = (p: Pending) => finish(p, prep, onTensor, split);
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
        out.push(await done(start(t)));
        next++;
        continue;
      }
      cur ??= start(t);
      const from = Math.max(t.start, pos);
      const to = Math.min(t.end, chunkEnd);
      if (to > from) cur.raw.set(c.subarray(from - pos, to - pos), from - t.start);
      if (to < t.end) break;
      out.push(await done(cur));
      cur = null;
      next++;
    }
    pos = chunkEnd;
    onChunk(c.byteLength);
  }
  while (next < order.length && order[next].byteLength === 0 && order[next].start <= pos) {
    out.push(await done(start(order[next++])));
  }
  if (next < order.length || pos !== header.size) {
    throw new ModelFormatError(
      `${header.file}: read ${pos} B but its header describes a ${header.size} B file; it is truncated or changed while loading.`,
    );
  }
  return out;
}

function start(entry: TensorEntry): Pending {
  return { entry, raw: new Uint8Array(entry.byteLength) };
}

async function finish(
  p: Pending,
  prep: WeightPrep,
  onTensor: (t: HostTensor) => HostTensor,
  split: (t: RawTensor) => RawTensor[],
): Promise<StreamedTensor> {
  const digest = await sha256Hex(p.raw);
  const { entry } = p;
  const parts = split({ name: entry.name, shape: entry.shape, raw: p.raw });
  const tensors = parts.map((t) => onTensor(prepareTensor(t.raw, { ...t, dtype: entry.dtype }, prep)));
  return { entry, tensors, digest };
}
