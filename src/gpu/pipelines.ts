/** WGSL source text by file stem: { rmsnorm: '...', matmul_gemm: '...' }. */
export type ShaderLibrary = Record<string, string>;

export type Constants = Record<string, number>;

/**
 * Compute pipelines built once and looked up by a key that names every specialisation,
 * e.g. `matmul_gemv:gemv_vec4:WG=256`.
 */
export class PipelineCache {
  private readonly modules = new Map<string, GPUShaderModule>();
  private readonly pipelines = new Map<string, GPUComputePipeline>();

  constructor(
    private readonly device: GPUDevice,
    private readonly shaders: ShaderLibrary,
  ) {}

  get size(): number {
    return this.pipelines.size;
  }

  get(file: string, entryPoint: string, constants: Constants = {}): GPUComputePipeline {
    const ckey = Object.keys(constants)
      .sort()
      .map((k) => `${k}=${constants[k]}`)
      .join(',');
    const key = `${file}:${entryPoint}:${ckey}`;
    let p = this.pipelines.get(key);
    if (!p) {
      p = this.device.createComputePipeline({
        label: key,
        layout: 'auto',
        compute: { module: this.module(file, constants), entryPoint },
      });
      this.pipelines.set(key, p);
    }
    return p;
  }

  /**
   * Specialisation rewrites the default of each `override NAME: T = value;` declaration rather than
   * passing pipeline `constants`: Dawn for Node (webgpu 0.6) crashes the process when constants are given.
   */
  private module(file: string, constants: Constants): GPUShaderModule {
    const key = `${file}:${JSON.stringify(Object.entries(constants).sort())}`;
    let m = this.modules.get(key);
    if (!m) {
      let code = this.source(file);
      for (const [name, value] of Object.entries(constants)) {
        const decl = new RegExp(`override\\s+${name}\\s*:\\s*(\\w+)\\s*=\\s*[^;]+;`);
        if (!decl.test(code)) throw new Error(`${file}.wgsl has no override ${name}`);
        code = code.replace(decl, (_m, type: string) => `override ${name}: ${type} = ${value};`);
      }
      m = this.device.createShaderModule({ label: key, code });
      this.modules.set(key, m);
    }
    return m;
  }

  /** A file's text with each `#include name` line replaced by name.wgsl (a shared prelude, one level). */
  private source(file: string): string {
    const code = this.shaders[file];
    if (code === undefined) throw new Error(`no shader named ${file}.wgsl`);
    return code.replace(/^#include (\w+)$/gm, (_m, name: string) => {
      const inc = this.shaders[name];
      if (inc === undefined) throw new Error(`${file}.wgsl includes ${name}.wgsl, which does not exist`);
      return inc;
    });
  }
}
