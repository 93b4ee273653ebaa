import { describe, expect, it } from 'vitest';
import { WebGPUUnavailableError } from '../../src/errors.ts';
import { DAWN_PACKAGE, loadDawn } from '../../src/gpu/node-gpu.ts';

// kvshare-web/node and the CLI load Dawn through loadDawn(); `webgpu` is an optional peer dependency.
describe('loading Dawn', () => {
  it('names the package and the install command when it is not installed', async () => {
    const missing = 'kvshare-test-no-such-webgpu';
    const err = await loadDawn(missing).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WebGPUUnavailableError);
    const e = err as WebGPUUnavailableError;
    expect(e.code).toBe('WEBGPU_UNAVAILABLE');
    expect(e.message).toContain(`\`npm install ${missing}\``);
    expect(e.message).toContain('optional peer dependency');
  });

  it('says "installed but could not be loaded" for a package that throws as it loads', async () => {
    const broken = `data:text/javascript,${encodeURIComponent('throw new Error("no addon for this platform")')}`;
    const err = await loadDawn(broken).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WebGPUUnavailableError);
    expect((err as Error).message).toContain('installed but could not be loaded');
    expect(((err as Error).cause as Error).message).toBe('no addon for this platform');
  });

  it('loads the real package, which the repository installs as a devDependency', async () => {
    const mod = await loadDawn(DAWN_PACKAGE);
    expect(typeof mod.create).toBe('function');
  });
});
