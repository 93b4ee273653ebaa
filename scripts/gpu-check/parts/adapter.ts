// The adapter: its info, features and limits, what the kernel selection makes of it, and the device
// memory bandwidth measured by buffer copies (against the nominal peak of known GPUs).
import { acquireDevice } from '../../../src/gpu/device.ts';
import { nodeGPU } from '../../../src/gpu/node-gpu.ts';
import type { KernelContext } from '../../../src/ops/context.ts';
import { gemvSplit } from '../../../src/ops/matmul.ts';
import type { PartContext, PartData } from './types.ts';

/** Nominal memory bandwidth (GB/s) of GPUs the kit may meet, by a pattern of the adapter's name. */
const PEAK_GBPS: [RegExp, number, string][] = [
  [/H200/i, 4800, 'H200 (HBM3e)'],
  [/H100.*NVL/i, 3900, 'H100 NVL'],
  [/H100.*PCIe/i, 2000, 'H100 PCIe'],
  [/H100/i, 3350, 'H100 SXM (HBM3)'],
  [/A100/i, 2039, 'A100 80GB SXM'],
];

export function nominalPeak(adapterName: string): { gbps: number; of: string } | null {
  const hit = PEAK_GBPS.find(([re]) => re.test(adapterName));
  return hit ? { gbps: hit[1], of: hit[2] } : null;
}

const LIMIT_NAMES = [
  'maxBufferSize',
  'maxStorageBufferBindingSize',
  'maxComputeWorkgroupStorageSize',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupSizeX',
  'maxComputeWorkgroupSizeY',
  'maxComputeWorkgroupSizeZ',
  'maxComputeWorkgroupsPerDimension',
  'maxStorageBuffersPerShaderStage',
  'maxUniformBufferBindingSize',
  'maxBindGroups',
  'minStorageBufferOffsetAlignment',
];

export async function adapterPart(ctx: PartContext): Promise<PartData> {
  const gpu = await acquireDevice(await nodeGPU());
  const info = gpu.adapter.info as GPUAdapterInfo & Record<string, unknown>;
  const limits: Record<string, number> = {};
  for (const name of LIMIT_NAMES)
    limits[name] = (gpu.adapter.limits as unknown as Record<string, number>)[name];
  const data: PartData = {
    pass: true,
    name: gpu.adapterName,
    info: {
      vendor: info.vendor,
      architecture: info.architecture,
      device: info.device,
      description: info.description,
      subgroupMinSize: info.subgroupMinSize,
      subgroupMaxSize: info.subgroupMaxSize,
      isFallbackAdapter: info.isFallbackAdapter,
    },
    features: [...gpu.adapter.features].sort(),
    shaderF16: gpu.hasF16,
    timestampQuery: gpu.adapter.features.has('timestamp-query'),
    subgroups: gpu.adapter.features.has('subgroups'),
    limits,
    selection: {
      software: gpu.software,
      subgroupSize: gpu.subgroupSize,
      gemvSplit: gemvSplit({ software: gpu.software, subgroupSize: gpu.subgroupSize } as KernelContext),
      gemm: gpu.software ? 'thread blocks' : 'tiles',
      attention: gpu.software ? 'thread (scores + output)' : 'flash (<= 4 rows), attend (more)',
    },
    env: {
      VK_DRIVER_FILES: process.env.VK_DRIVER_FILES ?? null,
      VK_ICD_FILENAMES: process.env.VK_ICD_FILENAMES ?? null,
    },
  };
  ctx.save(data);
  data.copyBandwidth = ctx.dryRun
    ? await copyBandwidth(gpu.device, 32, 2)
    : await copyBandwidth(gpu.device, 512, 32);
  data.nominalPeak = nominalPeak(gpu.adapterName);
  gpu.device.destroy();
  return data;
}

/**
 * GB/s of copyBufferToBuffer between two buffers of `mib` MiB (each byte read once and written once,
 * counted twice): the median of 5 submits of `per` copies after a warm-up, by wall time to
 * onSubmittedWorkDone (enough copies per submit that the submit's own cost is small).
 */
async function copyBandwidth(
  device: GPUDevice,
  mib: number,
  per: number,
): Promise<{ mib: number; gbps: number }> {
  const bytes = mib * 2 ** 20;
  const usage = GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;
  const a = device.createBuffer({ size: bytes, usage, label: 'bw.a' });
  const b = device.createBuffer({ size: bytes, usage, label: 'bw.b' });
  const copy = async (times: number) => {
    const enc = device.createCommandEncoder();
    for (let i = 0; i < times; i++) enc.copyBufferToBuffer(i % 2 ? b : a, 0, i % 2 ? a : b, 0, bytes);
    const t = performance.now();
    device.queue.submit([enc.finish()]);
    await device.queue.onSubmittedWorkDone();
    return performance.now() - t;
  };
  await copy(2);
  const ms: number[] = [];
  for (let i = 0; i < 5; i++) ms.push(await copy(per));
  ms.sort((x, y) => x - y);
  a.destroy();
  b.destroy();
  return { mib, gbps: Math.round((2 * bytes * per) / (ms[2] / 1e3) / 1e9) };
}
