import { InvalidArgumentError } from '../errors.ts';
import { storageBuffer } from '../gpu/buffers.ts';
import type { GpuContext } from '../gpu/device.ts';
import { encodePass, type Op, RowCount } from '../gpu/op.ts';
import { PipelineCache, type ShaderLibrary } from '../gpu/pipelines.ts';
import type { HostTensor, ModelConfig } from '../model/types.ts';
import { AttentionSplits } from '../ops/attention-flash.ts';
import type { KernelContext } from '../ops/context.ts';
import { checkKVDtypeFits } from '../ops/kv-format.ts';
import type { KVDtype } from '../util/kv-dtype.ts';
import { buildForwardGraph, type ForwardGraph, fullPass, type Segment } from './graph.ts';
import { LiveCache } from './live-cache.ts';
import { uploadLayerRopeTables } from './rope-table.ts';
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
  /** The graph segment to run (graph.ts; default the full pass). */
  segment?: Segment;
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
  /** How the KV cache stores K/V (default 'f32'; 'f16' halves its bytes, needs headDim % 4 == 0). */
  kvDtype?: KVDtype;
}

/** The model on the GPU: weights, KV cache, scratch and the recorded forward ops. */
export class LlamaRunner {
  private constructor(
    readonly gpu: GpuContext,
    readonly cfg: ModelConfig,
    readonly weights: ModelWeights,
    readonly cache: LiveCache,
    /** Internal to src/llama: activations, row counts, the recorded graph, kernel context. */
    readonly scratch: Scratch,
    readonly rows: RowCount,
    readonly logitRows: RowCount,
    readonly graph: ForwardGraph,
    readonly kernels: KernelContext,
    /** Layer l's RoPE table (one buffer shared by the layers with the same RoPE). */
    readonly ropeTables: GPUBuffer[],
    private readonly splits: AttentionSplits,
  ) {
    this.full = fullPass(graph);
    this.readback = new Readback(gpu.device, logitRows.max, cfg.vocabSize);
  }

  /** Mappable buffers the ids and logits are copied into, made once and reused every step. */
  private readonly readback: Readback;

  private readonly full: Segment;

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
    const kvDtype = opts.kvDtype ?? 'f32';
    checkKVDtypeFits(kvDtype, cfg.headDim, cfg.numKvHeads * cfg.headDim, 'KV cache');
    const cache = new LiveCache(
      device,
      cfg.numLayers,
      ctx,
      cfg.numKvHeads * cfg.headDim,
      cfg.headDim,
      kvDtype,
    );
    const scratch = allocScratch(device, cfg, { maxRows, maxLogitRows, ctx });
    const pipelines = new PipelineCache(device, shaders);
    const dummy = storageBuffer(device, 16, 'dummy');
    const k: KernelContext = {
      device,
      pipelines,
      dummy,
      owned: [dummy],
      subgroupSize: gpu.subgroupSize,
      software: gpu.software,
    };
    const rows = new RowCount(device, maxRows, 'rows');
    const logitRows = new RowCount(device, maxLogitRows, 'logitRows');
    const ropeTables = uploadLayerRopeTables(device, cfg, ctx);
    const splits = new AttentionSplits(device);
    k.owned.push(rows.buffer, logitRows.buffer, ...new Set(ropeTables), ...splits.buffers);
    const graph = buildForwardGraph(k, cfg, weights, cache, scratch, { rows, logitRows, ropeTables, splits });
    return new LlamaRunner(gpu, cfg, weights, cache, scratch, rows, logitRows, graph, k, ropeTables, splits);
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
    this.checkRows(rows);
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
        (opts.segment ?? this.full).ops,
      );
      local.forEach(([, i], j) => {
        ids[i] = out.ids[j];
        logits?.set(out.logits!.subarray(j * V, (j + 1) * V), i * V);
      });
    }
    return { ids, logits };
  }

  private checkRows(rows: Row[], chainedLast = false): void {
    rows.forEach((r, i) => {
      if (!Number.isInteger(r.position) || r.position < 0 || r.position >= this.cache.ctx) {
        throw new InvalidArgumentError(
          `position ${r.position} is outside the context (0..${this.cache.ctx - 1})`,
        );
      }
      if (chainedLast && i === rows.length - 1) return;
      if (!Number.isInteger(r.token) || r.token < 0 || r.token >= this.cfg.vocabSize) {
        throw new InvalidArgumentError(
          `token id ${r.token} is outside the vocabulary (0..${this.cfg.vocabSize - 1})`,
        );
      }
    });
  }

  /**
   * One greedy decode step without waiting for it: `rows` (at most maxRows; logits for the last
   * row only) are submitted now and the promise resolves to the argmax id of the last row. With
   * `chained`, the last row's token is not the host's: it is the argmax id of the previous step,
   * copied on the GPU, so a step can be submitted before the previous one is read back (ids come
   * back one step behind). At most two such steps may be in flight; resolve them in order.
   */
  submitGreedy(rows: Row[], chained: boolean): Promise<number> {
    if (this.gpu.lost) return Promise.reject(this.gpu.lost);
    if (rows.length === 0 || rows.length > this.rows.max)
      throw new InvalidArgumentError(`a greedy step takes 1..${this.rows.max} rows (got ${rows.length})`);
    this.checkRows(rows, chained);
    const { device } = this.gpu;
    const s = this.scratch;
    this.setInputs(rows, [rows.length - 1]);
    const enc = device.createCommandEncoder({ label: 'forward.greedy' });
    // ids [1] of the previous step -> tokens[last]
    if (chained) enc.copyBufferToBuffer(s.ids, 0, s.tokens, (rows.length - 1) * 4, 4);
    encodePass(enc, this.full.ops);
    const rb = this.readback.nextChained();
    enc.copyBufferToBuffer(s.ids, 0, rb, 0, 16);
    device.queue.submit([enc.finish()]);
    return rb.mapAsync(GPUMapMode.READ, 0, 16).then(() => {
      const id = new Uint32Array(rb.getMappedRange(0, 16))[0];
      rb.unmap();
      if (this.gpu.lost) throw this.gpu.lost;
      return id;
    });
  }

  /**
   * Run `segment` (no logits) over `rows` in steps of at most maxRows without waiting: each step's
   * inputs are written, its ops encoded, then `after(enc, chunk)` may add copies of what the step left
   * in the scratch before the step is submitted. KVShare's scoring pass runs this way.
   */
  submitRows(rows: Row[], segment: Segment, after?: (enc: GPUCommandEncoder, chunk: Row[]) => void): void {
    if (this.gpu.lost) throw this.gpu.lost;
    this.checkRows(rows);
    for (let start = 0; start < rows.length; start += this.rows.max) {
      const chunk = rows.slice(start, start + this.rows.max);
      this.setInputs(chunk, []);
      const enc = this.gpu.device.createCommandEncoder({ label: segment.name });
      encodePass(enc, segment.ops);
      after?.(enc, chunk);
      this.gpu.device.queue.submit([enc.finish()]);
    }
  }

  /** Write one step's inputs (tokens, positions, logit rows, row counts) to the GPU: the only writer. */
  private setInputs(chunk: Row[], logitIdx: number[]): void {
    const { device } = this.gpu;
    const s = this.scratch;
    device.queue.writeBuffer(s.tokens, 0, new Uint32Array(chunk.map((r) => r.token)));
    device.queue.writeBuffer(s.pos, 0, new Int32Array(chunk.map((r) => r.position)));
    if (logitIdx.length > 0) device.queue.writeBuffer(s.logitIdx, 0, new Uint32Array(logitIdx));
    this.rows.set(chunk.length);
    this.logitRows.set(logitIdx.length);
    this.splits.setSpan(Math.max(...chunk.map((r) => r.position)) + 1);
  }

  /**
   * Write the inputs of one step of `rows` (at most maxRows, logits for the last) and return the full
   * pass's ops in encoding order, for the profiler (profile.ts) to time. For profiling only.
   */
  stageProfile(rows: Row[]): readonly Op[] {
    if (rows.length === 0 || rows.length > this.rows.max)
      throw new InvalidArgumentError(`profile takes 1..${this.rows.max} rows (got ${rows.length})`);
    this.setInputs(rows, [rows.length - 1]);
    return this.full.ops;
  }

  private async step(
    chunk: Row[],
    logitIdx: number[],
    readLogits: boolean,
    ops: readonly Op[],
  ): Promise<ForwardResult> {
    const { device } = this.gpu;
    const s = this.scratch;
    this.setInputs(chunk, logitIdx);
    const m = logitIdx.length;
    const V = this.cfg.vocabSize;
    const enc = device.createCommandEncoder({ label: 'forward' });
    encodePass(enc, ops);
    const rb = this.readback;
    if (m > 0) {
      enc.copyBufferToBuffer(s.ids, 0, rb.ids, 0, Math.max(16, m * 4));
      if (readLogits) enc.copyBufferToBuffer(s.logits, 0, rb.logits(), 0, m * V * 4);
    }
    device.queue.submit([enc.finish()]);
    if (m === 0) {
      await device.queue.onSubmittedWorkDone();
      if (this.gpu.lost) throw this.gpu.lost;
      return { ids: new Uint32Array(0), logits: null };
    }
    const read = async (b: GPUBuffer, bytes: number) => {
      await b.mapAsync(GPUMapMode.READ, 0, Math.ceil(bytes / 16) * 16);
      const copy = b.getMappedRange(0, Math.ceil(bytes / 16) * 16).slice(0, bytes);
      b.unmap();
      return copy;
    };
    const [ids, logits] = await Promise.all([
      read(rb.ids, m * 4),
      readLogits ? read(rb.logits(), m * V * 4) : null,
    ]);
    if (this.gpu.lost) throw this.gpu.lost;
    return { ids: new Uint32Array(ids), logits: logits ? new Float32Array(logits) : null };
  }

  destroy(): void {
    for (const b of [...this.weights.buffers, ...this.scratch.all, ...this.kernels.owned]) b.destroy();
    this.readback.destroy();
    this.cache.destroy();
  }
}

/**
 * Persistent MAP_READ buffers for a step's argmax ids [maxLogitRows], (made on first use) logits
 * [maxLogitRows, V], and a ring of two [4] u32 for chained greedy steps (two may be in flight).
 */
class Readback {
  readonly ids: GPUBuffer;
  private logitBuffer: GPUBuffer | null = null;
  private readonly chained: GPUBuffer[];
  private turn = 0;
  constructor(
    private readonly device: GPUDevice,
    private readonly maxRows: number,
    private readonly vocab: number,
  ) {
    this.ids = this.make(maxRows * 4, 'readback.ids');
    this.chained = [0, 1].map((i) => this.make(16, `readback.chained${i}`));
  }
  nextChained(): GPUBuffer {
    this.turn ^= 1;
    return this.chained[this.turn];
  }
  logits(): GPUBuffer {
    this.logitBuffer ??= this.make(this.maxRows * this.vocab * 4, 'readback.logits');
    return this.logitBuffer;
  }
  private make(bytes: number, label: string): GPUBuffer {
    const size = Math.max(16, Math.ceil(bytes / 16) * 16);
    return this.device.createBuffer({
      label,
      size,
      usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
    });
  }
  destroy(): void {
    for (const b of [this.ids, ...this.chained]) b.destroy();
    this.logitBuffer?.destroy();
  }
}
