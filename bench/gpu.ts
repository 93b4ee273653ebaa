import { storageBuffer } from '../src/gpu/buffers.ts';
import { acquireDevice, type GpuContext } from '../src/gpu/device.ts';
import { nodeGPU } from '../src/gpu/node-gpu.ts';
import { PipelineCache } from '../src/gpu/pipelines.ts';
import { nodeShaderLibrary } from '../src/gpu/shaders-node.ts';
import type { KernelContext } from '../src/ops/context.ts';

/** The Node device (adapter from VK_ICD_FILENAMES) and a kernel context for the kernel sweeps. */
export async function benchKernels(): Promise<{ gpu: GpuContext; device: GPUDevice; k: KernelContext }> {
  const gpu = await acquireDevice(await nodeGPU());
  const device = gpu.device;
  const k: KernelContext = {
    device,
    pipelines: new PipelineCache(device, nodeShaderLibrary()),
    dummy: storageBuffer(device, 16, 'dummy'),
    owned: [],
    subgroupSize: gpu.subgroupSize,
    software: gpu.software,
  };
  return { gpu, device, k };
}
