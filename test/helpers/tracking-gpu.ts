import { nodeGPU } from '../../src/gpu/node-gpu.ts';

/** What a TrackingGPU records and lets a test do to its devices. */
export interface GpuProbe {
  /** Buffers created and not yet destroyed, with their sizes in bytes. */
  live: Map<GPUBuffer, number>;
  /** Resolves the `lost` promise of the newest device, as a driver reset would (the device itself stays usable). */
  loseDevice(message: string): void;
  /** Set by trackingGPU: resolves the newest device's `lost`. */
  onLose?: (message: string) => void;
}

/**
 * The real Node GPU (Dawn), whose devices record every buffer they create until it is destroyed, and
 * whose `device.lost` can be resolved by the test: a device loss cannot be caused on demand.
 */
export async function trackingGPU(probe: GpuProbe): Promise<GPU> {
  const gpu = await nodeGPU();
  const requestAdapter = gpu.requestAdapter.bind(gpu);
  const tracked = Object.create(gpu) as GPU;
  tracked.requestAdapter = async (opts) => {
    const adapter = await requestAdapter(opts);
    if (!adapter) return adapter;
    const requestDevice = adapter.requestDevice.bind(adapter);
    adapter.requestDevice = async (desc) => {
      const device = await requestDevice(desc);
      const real = device.lost;
      const lost = new Promise<GPUDeviceLostInfo>((resolve) => {
        probe.onLose = (message) => resolve({ reason: 'unknown', message } as GPUDeviceLostInfo);
        void real.then(resolve);
      });
      Object.defineProperty(device, 'lost', { value: lost });
      const createBuffer = device.createBuffer.bind(device);
      device.createBuffer = (d) => {
        const b = createBuffer(d);
        probe.live.set(b, d.size);
        const destroy = b.destroy.bind(b);
        b.destroy = () => {
          probe.live.delete(b);
          destroy();
        };
        return b;
      };
      return device;
    };
    return adapter;
  };
  return tracked;
}

export function gpuProbe(): GpuProbe {
  const probe: GpuProbe = {
    live: new Map(),
    loseDevice: (message) => probe.onLose?.(message),
  };
  return probe;
}
