import type { PipelineCache } from '../gpu/pipelines.ts';

/** What every op builder needs: the device and the shared pipeline cache. */
export interface KernelContext {
  device: GPUDevice;
  pipelines: PipelineCache;
  /** A 16-byte storage buffer bound where an optional input (e.g. a bias) is absent. */
  dummy: GPUBuffer;
  /** Uniform buffers created by op builders, destroyed with the model. */
  owned: GPUBuffer[];
  /** The adapter's smallest subgroup size when the device has `subgroups` (GpuContext.subgroupSize). */
  subgroupSize?: number | null;
  /** The adapter runs on the CPU (GpuContext.software): kernels pick CPU-friendly work splits. */
  software?: boolean;
}

export function ceilDiv(a: number, b: number): number {
  return Math.ceil(a / b);
}
