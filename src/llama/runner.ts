import { InvalidArgumentError } from '../errors.ts';
import { storageBuffer } from '../gpu/buffers.ts';
import type { GpuContext } from '../gpu/device.ts';
import { type Op, RowCount } from '../gpu/op.ts';
import { PipelineCache, type ShaderLibrary } from '../gpu/pipelines.ts';
import type { HostTensor, ModelConfig } from '../model/types.ts';
import type { KernelContext } from '../ops/context.ts';
import { uploadRopeTable } from '../ops/rope.ts';
import { buildForwardGraph, type ForwardGraph, flattenGraph } from './graph.ts';
import { KVCache } from './kv-cache.ts';
import { allocScratch, type Scratch } from './scratch.ts';
import { type ModelWeights, uploadWeights } from './weights.ts';

/** One row of a forward step: the token and the sequence position it sits at. */
export interface Row {
  token: number;
  position: number;
}

export interface ForwardOptions {
  /** Indices into `rows` whose logits are wanted (default: the last row). */
  logitRows?: number[];
  /** Also copy the logits back (otherwise only the argmax ids). */
  readLogits?: boolean;
  /** Ops to encode instead of the whole graph (a partial pass over rows prepared elsewhere). */
  ops?: Op[];
}

export interface ForwardResult {
  ids: Uint32Array; // [m] argmax per logit row
  logits: Float32Array | null; // [m, V] when readLogits
}

export interface RunnerOptions {
  /** Positions the KV cache holds (default min(maxPositions, 2048)). */
  contextLength?: number;
  /** Rows per forward step; longer inputs run in chunks (default 128). */
  maxRows?: number;
  /** Rows that may ask for logits in one step (default 8). */
  maxLogitRows?: number;
  onTensor?: (name: string, bytes: number) => void;
}

/** The model on the GPU: weights, KV cache, scratch and the recorded forward ops. */
export class LlamaRunner {
  private constructor(
    readonly gpu: GpuContext,
    readonly cfg: ModelConfig,
    readonly weights: ModelWeights,
    readonly cache: KVCache,
    /** Internal to src/llama: activations, row counts, the recorded graph, kernel context. */
    readonly scratch: Scratch,
    readonly rows: RowCount,
    readonly logitRows: RowCount,
    readonly graph: ForwardGraph,
    readonly kernels: KernelContext,
    readonly ropeTable: GPUBuffer,
  ) {
    this.ops = flattenGraph(graph);
  }

  private readonly ops: Op[];

  static build(
    gpu: GpuContext,
    shaders: ShaderLibrary,
    cfg: ModelConfig,
    tensors: Map<string, HostTensor>,
    opts: RunnerOptions = {},
  ): LlamaRunner {
    const device = gpu.device;
    const ctx = Math.min(cfg.maxPositions, opts.contextLength ?? 2048);
    const maxRows = opts.maxRows ?? 128;
    const maxLogitRows = opts.maxLogitRows ?? 8;
    const weights = uploadWeights(
      device,
      cfg,
      tensors,
      gpu.limits.maxStorageBufferBindingSize,
      opts.onTensor,
    );
    const cache = new KVCache(device, cfg.numLayers, ctx, cfg.numKvHeads * cfg.headDim);
    const scratch = allocScratch(device, cfg, { maxRows, maxLogitRows, ctx });
    const pipelines = new PipelineCache(device, shaders);
    const dummy = storageBuffer(device, 16, 'dummy');
    const k: KernelContext = { device, pipelines, dummy, owned: [dummy] };
    const rows = new RowCount(device, maxRows, 'rows');
    const logitRows = new RowCount(device, maxLogitRows, 'logitRows');
    const ropeTable = uploadRopeTable(device, ctx, cfg.headDim, cfg.ropeTheta);
    k.owned.push(rows.buffer, logitRows.buffer, ropeTable);
    const graph = buildForwardGraph(k, cfg, weights, cache, scratch, { rows, logitRows, ropeTable });
    return new LlamaRunner(gpu, cfg, weights, cache, scratch, rows, logitRows, graph, k, ropeTable);
  }

  get contextLength(): number {
    return this.cache.ctx;
  }

  /**
   * Compute the given rows: each attends to cache positions <= its own, and its K/V are written
   * into the cache at its position. Rows beyond maxRows run in several steps, in order.
   */
  async forward(rows: Row[], opts: ForwardOptions = {}): Promise<ForwardResult> {
    if (this.gpu.lost) throw this.gpu.lost;
    const want = opts.logitRows ?? (rows.length > 0 ? [rows.length - 1] : []);
    for (const r of rows) {
      if (!Number.isInteger(r.position) || r.position < 0 || r.position >= this.cache.ctx) {
        throw new InvalidArgumentError(
          `position ${r.position} is outside the context (0..${this.cache.ctx - 1})`,
        );
      }
      if (!Number.isInteger(r.token) || r.token < 0 || r.token >= this.cfg.vocabSize) {
        throw new InvalidArgumentError(
          `token id ${r.token} is outside the vocabulary (0..${this.cfg.vocabSize - 1})`,
        );
      }
    }
    const V = this.cfg.vocabSize;
    const ids = new Uint32Array(want.length);
    const logits = opts.readLogits ? new Float32Array(want.length * V) : null;
    for (let start = 0; start < rows.length; start += this.rows.max) {
      const chunk = rows.slice(start, start + this.rows.max);
      const local = want.map((w, i) => [w - start, i]).filter(([w]) => w >= 0 && w < chunk.length);
      if (local.length > this.logitRows.max) {
        throw new InvalidArgumentError(
          `at most ${this.logitRows.max} logit rows per step (asked ${local.length})`,
        );
      }
      const out = await this.step(
        chunk,
        local.map(([w]) => w),
        !!logits,
        opts.ops ?? this.ops,
      );
      local.forEach(([, i], j) => {
        ids[i] = out.ids[j];
        logits?.set(out.logits!.subarray(j * V, (j + 1) * V), i * V);
      });
    }
    return { ids, logits };
  }

  private async step(
    chunk: Row[],
    logitIdx: number[],
    readLogits: boolean,
    ops: Op[],
  ): Promise<ForwardResult> {
    const { device } = this.gpu;
    const s = this.scratch;
    device.queue.writeBuffer(s.tokens, 0, new Uint32Array(chunk.map((r) => r.token)));
    device.queue.writeBuffer(s.pos, 0, new Int32Array(chunk.map((r) => r.position)));
    if (logitIdx.length > 0) device.queue.writeBuffer(s.logitIdx, 0, new Uint32Array(logitIdx));
    this.rows.set(chunk.length);
    this.logitRows.set(logitIdx.length);
    const m = logitIdx.length;
    const V = this.cfg.vocabSize;
    const idBytes = Math.max(16, m * 4);
    const logitBytes = readLogits ? m * V * 4 : 0;
    const staging = device.createBuffer({
      label: 'forward.readback',
      size: Math.ceil((idBytes + logitBytes) / 4) * 4,
      usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
    });
    const enc = device.createCommandEncoder({ label: 'forward' });
    const pass = enc.beginComputePass();
    for (const op of ops) op.encode(pass);
    pass.end();
    if (m > 0) {
      enc.copyBufferToBuffer(s.ids, 0, staging, 0, idBytes);
      if (readLogits) enc.copyBufferToBuffer(s.logits, 0, staging, idBytes, logitBytes);
    }
    device.queue.submit([enc.finish()]);
    await staging.mapAsync(GPUMapMode.READ);
    const mapped = staging.getMappedRange();
    const ids = new Uint32Array(mapped.slice(0, m * 4));
    const logits = readLogits ? new Float32Array(mapped.slice(idBytes, idBytes + logitBytes)) : null;
    staging.unmap();
    staging.destroy();
    if (this.gpu.lost) throw this.gpu.lost;
    return { ids, logits };
  }

  destroy(): void {
    for (const b of [...this.weights.buffers, ...this.scratch.all, ...this.kernels.owned]) b.destroy();
    this.cache.destroy();
  }
}
