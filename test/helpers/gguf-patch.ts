// Test-only edits of a built GGUF file (src/model/gguf/gguf-writer.ts builds them).

/**
 * Where tensor `name`'s info ends its dims in `file`: the byte offset of its GGML type id (u32), which
 * the data offset (u64) follows.
 */
function typeFieldOf(file: Uint8Array, name: string): number {
  const needle = new TextEncoder().encode(name);
  const dv = new DataView(file.buffer, file.byteOffset, file.byteLength);
  for (let i = 8; i + needle.length < file.length; i++) {
    if (dv.getBigUint64(i - 8, true) !== BigInt(needle.length)) continue;
    if (!needle.every((b, k) => file[i + k] === b)) continue;
    const dims = dv.getUint32(i + needle.length, true);
    return i + needle.length + 4 + 8 * dims;
  }
  throw new Error(`tensor ${name} not found`);
}

/** Sets the GGML type id of tensor `name` in a built file's tensor infos (to test unsupported types). */
export function patchTensorType(file: Uint8Array, name: string, typeId: number): Uint8Array {
  const out = file.slice();
  new DataView(out.buffer).setUint32(typeFieldOf(out, name), typeId, true);
  return out;
}

/** Sets the data offset of tensor `name` in a built file's tensor infos (to test packing rules). */
export function patchTensorOffset(file: Uint8Array, name: string, offset: number): Uint8Array {
  const out = file.slice();
  new DataView(out.buffer).setBigUint64(typeFieldOf(out, name) + 4, BigInt(offset), true);
  return out;
}

/** The data offset of tensor `name` in a built file's tensor infos. */
export function tensorOffset(file: Uint8Array, name: string): number {
  const dv = new DataView(file.buffer, file.byteOffset, file.byteLength);
  return Number(dv.getBigUint64(typeFieldOf(file, name) + 4, true));
}
