// Test-only edits of a built GGUF file (src/model/gguf-writer.ts builds them).

/** Sets the GGML type id of tensor `name` in a built file's tensor infos (to test unsupported types). */
export function patchTensorType(file: Uint8Array, name: string, typeId: number): Uint8Array {
  const out = file.slice();
  const needle = new TextEncoder().encode(name);
  const dv = new DataView(out.buffer);
  for (let i = 8; i + needle.length < out.length; i++) {
    if (dv.getBigUint64(i - 8, true) !== BigInt(needle.length)) continue;
    if (!needle.every((b, k) => out[i + k] === b)) continue;
    const dims = dv.getUint32(i + needle.length, true);
    dv.setUint32(i + needle.length + 4 + 8 * dims, typeId, true);
    return out;
  }
  throw new Error(`tensor ${name} not found`);
}
