/** WGSL source text by file stem: { rmsnorm: '...', matmul_gemm: '...' }. */
import { InternalError } from '../errors.ts';
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

  /**
   * The pipeline of `entryPoint` in `file`, with `constants` as override defaults and `includes`
   * swapping an included prelude for another (e.g. { matmul_gemv_reduce: 'matmul_gemv_reduce_subgroup' }).
   */
  get(
    file: string,
    entryPoint: string,
    constants: Constants = {},
    includes: Record<string, string> = {},
  ): GPUComputePipeline {
    const named = (o: Record<string, string | number>) =>
      Object.keys(o)
        .sort()
        .map((k) => `${k}=${o[k]}`)
        .join(',');
    const swaps = named(includes);
    const key = `${file}:${entryPoint}:${named(constants)}${swaps ? `:${swaps}` : ''}`;
    let p = this.pipelines.get(key);
    if (!p) {
      p = this.device.createComputePipeline({
        label: key,
        layout: 'auto',
        compute: { module: this.module(file, constants, includes), entryPoint },
      });
      this.pipelines.set(key, p);
    }
    return p;
  }

  /**
   * Specialisation rewrites the default of each `override NAME: T = value;` declaration rather than
   * passing pipeline `constants`: Dawn for Node (webgpu 0.6) crashes the process when constants are given.
   * A `const NAME: T = value;` is rewritten the same way, for what must be a const (a private array's
   * size, e.g. q8_prelude.wgsl's Q8_GROUP: an override will not do there).
   */
  private module(file: string, constants: Constants, includes: Record<string, string>): GPUShaderModule {
    const key = `${file}:${JSON.stringify(Object.entries(constants).sort())}:${JSON.stringify(Object.entries(includes).sort())}`;
    let m = this.modules.get(key);
    if (!m) {
      let code = this.source(file, includes);
      for (const [name, value] of Object.entries(constants)) {
        const decl = new RegExp(`^(override|const)\\s+${name}\\s*:\\s*(\\w+)\\s*=\\s*[^;]+;`, 'm');
        if (!decl.test(code))
          throw new InternalError(`internal error: ${file}.wgsl has no override or const ${name}`);
        code = code.replace(decl, (_m, kind: string, type: string) => `${kind} ${name}: ${type} = ${value};`);
      }
      m = this.device.createShaderModule({ label: key, code });
      this.modules.set(key, m);
    }
    return m;
  }

  /**
   * A file's text with each `#include name` line replaced by name.wgsl (or by the file `includes`
   * names for it), recursively; `enable` and `diagnostic` directives of included files are moved to
   * the top, where WGSL requires them.
   */
  private source(file: string, includes: Record<string, string>): string {
    const directives: string[] = [];
    const expand = (name: string, from: string, depth: number): string => {
      const code = this.shaders[name];
      if (code === undefined) {
        throw new InternalError(
          from ? `${from}.wgsl includes ${name}.wgsl, which does not exist` : `no shader named ${name}.wgsl`,
        );
      }
      if (depth > 4) throw new InternalError(`internal error: ${name}.wgsl: includes nested too deep`);
      return code
        .replace(/^(enable|diagnostic)\b[^\n]*\n/gm, (d) => {
          if (!directives.includes(d)) directives.push(d);
          return '';
        })
        .replace(/^#include (\w+)$/gm, (_m, inc: string) => expand(includes[inc] ?? inc, name, depth + 1));
    };
    const body = expand(file, '', 0);
    return directives.join('') + body;
  }
}
