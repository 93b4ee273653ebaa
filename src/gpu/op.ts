import { uniformBuffer } from './buffers.ts';

/** One recorded kernel launch: pipeline and bind group are built once, the dispatch size per step. */
export interface Op {
  readonly label: string;
  encode(pass: GPUComputePassEncoder): void;
}

/**
 * A dynamic row count shared by many ops: a 16-byte uniform `{ n: u32 }` on the GPU and its CPU
 * mirror, used to size dispatches. Kernels skip rows `>= count.n` (or clamp them, where every lane of a
 * subgroup must run the loop).
 */
export class RowCount {
  readonly buffer: GPUBuffer;
  private value = 0;
  constructor(
    private readonly device: GPUDevice,
    readonly max: number,
    label: string,
  ) {
    this.buffer = uniformBuffer(device, 16, label);
  }
  get n(): number {
    return this.value;
  }
  set(n: number): void {
    if (n > this.max) throw new RangeError(`row count ${n} exceeds the buffer capacity ${this.max}`);
    this.value = n;
    this.device.queue.writeBuffer(this.buffer, 0, new Uint32Array([n, 0, 0, 0]));
  }
  destroy(): void {
    this.buffer.destroy();
  }
}

export type Dispatch = () => [number, number?, number?];

export function makeOp(
  device: GPUDevice,
  label: string,
  pipeline: GPUComputePipeline,
  /** Buffer for each binding index; `null` leaves a binding the entry point does not use. */
  bindings: (GPUBuffer | null)[],
  dispatch: Dispatch,
): Op {
  const entries: GPUBindGroupEntry[] = [];
  bindings.forEach((buffer, binding) => {
    if (buffer) entries.push({ binding, resource: { buffer } });
  });
  const bindGroup = device.createBindGroup({ label, layout: pipeline.getBindGroupLayout(0), entries });
  return {
    label,
    encode(pass) {
      const [x, y = 1, z = 1] = dispatch();
      if (x === 0 || y === 0 || z === 0) return;
      pass.setPipeline(pipeline);
      pass.setBindGroup(0, bindGroup);
      pass.dispatchWorkgroups(x, y, z);
    },
  };
}

/** Encode `ops` in order into one compute pass of `enc` (options: e.g. timestamp writes). */
export function encodePass(
  enc: GPUCommandEncoder,
  ops: readonly Op[],
  options?: GPUComputePassDescriptor,
): void {
  const pass = enc.beginComputePass(options);
  for (const op of ops) op.encode(pass);
  pass.end();
}

/** Encode `ops` in one compute pass and submit them as one command buffer. */
export function submitOps(device: GPUDevice, ops: readonly Op[]): void {
  const enc = device.createCommandEncoder();
  encodePass(enc, ops);
  device.queue.submit([enc.finish()]);
}
