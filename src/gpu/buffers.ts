/** A storage buffer of at least 16 bytes (WebGPU dislikes zero-size bindings). */
export function storageBuffer(device: GPUDevice, bytes: number, label: string): GPUBuffer {
  const size = Math.max(16, Math.ceil(bytes / 4) * 4);
  // GPUBufferUsage is read at call time: in Node the globals appear only once Dawn is loaded.
  const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC;
  return device.createBuffer({ label, size, usage });
}

export function uploadF32(device: GPUDevice, data: Float32Array, label: string): GPUBuffer {
  const buf = storageBuffer(device, data.byteLength, label);
  device.queue.writeBuffer(buf, 0, data.buffer, data.byteOffset, data.byteLength);
  return buf;
}

/** A storage buffer holding the bytes of `data` (e.g. f16 K/V rows: packed halves); byteLength % 4 == 0. */
export function uploadBytes(device: GPUDevice, data: ArrayBufferView, label: string): GPUBuffer {
  const buf = storageBuffer(device, data.byteLength, label);
  device.queue.writeBuffer(buf, 0, data.buffer, data.byteOffset, data.byteLength);
  return buf;
}

export function uploadU32(device: GPUDevice, data: Uint32Array | Int32Array, label: string): GPUBuffer {
  const buf = storageBuffer(device, data.byteLength, label);
  device.queue.writeBuffer(buf, 0, data.buffer, data.byteOffset, data.byteLength);
  return buf;
}

/** A 16-byte-aligned uniform buffer; `fill` writes the fields through a DataView. */
export function uniformBuffer(device: GPUDevice, bytes: number, label: string): GPUBuffer {
  return device.createBuffer({
    label,
    size: Math.max(16, Math.ceil(bytes / 16) * 16),
    usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
  });
}

/** Params packed as consecutive 4-byte fields: integers as u32 (or i32), other numbers as f32. */
export type ParamField = { u: number } | { i: number } | { f: number };

export function packParams(fields: ParamField[]): ArrayBuffer {
  const buf = new ArrayBuffer(Math.max(16, Math.ceil((fields.length * 4) / 16) * 16));
  const dv = new DataView(buf);
  fields.forEach((field, idx) => {
    if ('u' in field) dv.setUint32(idx * 4, field.u, true);
    else if ('i' in field) dv.setInt32(idx * 4, field.i, true);
    else dv.setFloat32(idx * 4, field.f, true);
  });
  return buf;
}

export function paramsBuffer(device: GPUDevice, fields: ParamField[], label: string): GPUBuffer {
  const data = packParams(fields);
  const buf = uniformBuffer(device, data.byteLength, label);
  device.queue.writeBuffer(buf, 0, data);
  return buf;
}

/** Copy `bytes` from `src` (at `offset`) into a fresh mappable buffer and read it back. */
export async function readBuffer(
  device: GPUDevice,
  src: GPUBuffer,
  bytes: number,
  offset = 0,
): Promise<ArrayBuffer> {
  const staging = device.createBuffer({
    label: 'readback',
    size: Math.ceil(bytes / 4) * 4,
    usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
  });
  const enc = device.createCommandEncoder();
  enc.copyBufferToBuffer(src, offset, staging, 0, staging.size);
  device.queue.submit([enc.finish()]);
  await staging.mapAsync(GPUMapMode.READ);
  const out = staging.getMappedRange().slice(0, bytes);
  staging.unmap();
  staging.destroy();
  return out;
}

export async function readF32(
  device: GPUDevice,
  src: GPUBuffer,
  count: number,
  offset = 0,
): Promise<Float32Array> {
  return new Float32Array(await readBuffer(device, src, count * 4, offset));
}
