import { DeviceLostError, WebGPUUnavailableError } from '../errors.ts';

/** What the engine needs from the adapter; checked before any model download. */
export interface GpuRequirements {
  /** Largest single storage binding the model needs (bytes); tensors above the adapter limit are split. */
  minStorageBufferBindingSize?: number;
}

export interface GpuContext {
  device: GPUDevice;
  /** Held so the instance and adapter outlive the device (Dawn for Node crashes if they are collected). */
  gpu: GPU;
  adapter: GPUAdapter;
  /** Human-readable adapter description, e.g. "llvmpipe (Mesa 25) via vulkan". */
  adapterName: string;
  hasF16: boolean;
  /**
   * The adapter's smallest subgroup size when it has the `subgroups` feature (requested on the
   * device), else null: kernels may then reduce within groups of that many lanes without barriers.
   */
  subgroupSize: number | null;
  /** A CPU implementation (SwiftShader, lavapipe / llvmpipe, or any fallback adapter). */
  software: boolean;
  limits: {
    maxStorageBufferBindingSize: number;
    maxBufferSize: number;
    maxComputeWorkgroupStorageSize: number;
    maxComputeInvocationsPerWorkgroup: number;
    maxComputeWorkgroupsPerDimension: number;
  };
  /** Set once the device is lost; every later GPU call should fail with it. */
  lost: DeviceLostError | null;
}

function describeAdapter(adapter: GPUAdapter): string {
  const info = adapter.info;
  const parts = [info?.vendor, info?.architecture, info?.device, info?.description].filter(
    (s): s is string => typeof s === 'string' && s.length > 0,
  );
  return parts.length > 0 ? parts.join(' / ') : 'unknown adapter';
}

/**
 * Request an adapter and a device from `gpu` (navigator.gpu in browsers, Dawn in Node),
 * asking for the adapter's own maximum buffer limits so large tensors fit where they can.
 */
export async function acquireDevice(gpu: GPU | undefined, req: GpuRequirements = {}): Promise<GpuContext> {
  if (!gpu) {
    throw new WebGPUUnavailableError(
      'WebGPU is not available here: use a browser with WebGPU enabled (Chrome/Edge 113+, or Firefox/Safari with WebGPU on), or in Node install the `webgpu` package.',
    );
  }
  let adapter: GPUAdapter | null = null;
  try {
    adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  } catch (cause) {
    throw new WebGPUUnavailableError('requestAdapter() failed.', { cause });
  }
  if (!adapter) {
    throw new WebGPUUnavailableError(
      'WebGPU is present but no GPU adapter was found. Enable hardware acceleration, or on a machine without a GPU install a software Vulkan driver (lavapipe or SwiftShader).',
    );
  }
  const a = adapter.limits;
  if (req.minStorageBufferBindingSize && a.maxStorageBufferBindingSize < req.minStorageBufferBindingSize) {
    throw new WebGPUUnavailableError(
      `The adapter's maxStorageBufferBindingSize (${a.maxStorageBufferBindingSize} B) is below the ${req.minStorageBufferBindingSize} B this model needs.`,
    );
  }
  const hasF16 = adapter.features.has('shader-f16');
  const subgroupSize = adapterSubgroupSize(adapter);
  const features: GPUFeatureName[] = [];
  if (hasF16) features.push('shader-f16');
  if (subgroupSize) features.push('subgroups' as GPUFeatureName);
  // Only the per-op profile (LlamaRunner.profile) writes timestamps; the feature costs nothing unused.
  if (adapter.features.has('timestamp-query')) features.push('timestamp-query');
  const device = await adapter.requestDevice({
    requiredFeatures: features,
    requiredLimits: {
      maxStorageBufferBindingSize: a.maxStorageBufferBindingSize,
      maxBufferSize: a.maxBufferSize,
      maxComputeWorkgroupStorageSize: a.maxComputeWorkgroupStorageSize,
      maxComputeInvocationsPerWorkgroup: a.maxComputeInvocationsPerWorkgroup,
      maxStorageBuffersPerShaderStage: Math.min(a.maxStorageBuffersPerShaderStage, 10),
    },
  });
  const ctx: GpuContext = {
    device,
    gpu,
    adapter,
    adapterName: describeAdapter(adapter),
    hasF16,
    subgroupSize,
    software: isSoftwareAdapter(adapter),
    limits: {
      maxStorageBufferBindingSize: device.limits.maxStorageBufferBindingSize,
      maxBufferSize: device.limits.maxBufferSize,
      maxComputeWorkgroupStorageSize: device.limits.maxComputeWorkgroupStorageSize,
      maxComputeInvocationsPerWorkgroup: device.limits.maxComputeInvocationsPerWorkgroup,
      maxComputeWorkgroupsPerDimension: device.limits.maxComputeWorkgroupsPerDimension,
    },
    lost: null,
  };
  void device.lost.then((info) => {
    if (info.reason !== 'destroyed')
      ctx.lost = new DeviceLostError(`The GPU device was lost: ${info.message}`);
  });
  return ctx;
}

/**
 * The smallest subgroup size of an adapter with `subgroups` (adapter.info.subgroupMinSize), if it is
 * a power of two from 4 to 64; otherwise null (the kernels then reduce through shared memory).
 */
function adapterSubgroupSize(adapter: GPUAdapter): number | null {
  if (!adapter.features.has('subgroups')) return null;
  const min = (adapter.info as GPUAdapterInfo & { subgroupMinSize?: number }).subgroupMinSize;
  if (typeof min !== 'number' || min < 4 || min > 64 || (min & (min - 1)) !== 0) return null;
  return min;
}

/** Whether the adapter runs on the CPU: a fallback adapter, SwiftShader or lavapipe (llvmpipe). */
function isSoftwareAdapter(adapter: GPUAdapter): boolean {
  const info = adapter.info as GPUAdapterInfo & { isFallbackAdapter?: boolean };
  if (info?.isFallbackAdapter) return true;
  return /swiftshader|llvmpipe|lavapipe/i.test(describeAdapter(adapter));
}
