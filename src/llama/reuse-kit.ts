import type { ScoreSignal } from '../api/reuse-options.ts';
import { InternalError } from '../errors.ts';
import { storageBuffer, uploadBytes, uploadU32 } from '../gpu/buffers.ts';
import { type Op, RowCount, submitOps } from '../gpu/op.ts';
import { attentionOp } from '../ops/attention.ts';
import type { KernelContext } from '../ops/context.ts';
import { gatherRowsOps } from '../ops/embed.ts';
import { deviationOp, kvPatchOp, scoreOp } from '../ops/kvpatch.ts';
import { type KVArray, kvConvert, kvGatherRows } from '../util/kv-dtype.ts';
import { attentionMask, continueFromLayer1, type Segment, scoringPass } from './graph.ts';
import type { HotEntry } from './hot-tier.ts';
import type { ForwardOptions, ForwardResult, LlamaRunner, Row } from './runner.ts';

/** One reused row: entry row `src` (rotated at `old`) goes to position `dst` of the live cache. */
export interface PatchRow {
  src: number;
  dst: number;
  old: number;
}

/** Where a patch takes rows from: an entry of the hot tier, or host K/V of which only `rows` go up. */
export interface PatchSource {
  hot?: HotEntry;
  /** L × [T, kvDim] (converted to the live cache's dtype and q8 group if another); q8Group: the arrays' (q8) */
  host?: { k: KVArray[]; v: KVArray[]; q8Group?: number };
  rows: PatchRow[];
}

/**
 * KVShare's GPU work on a runner: patch cached entries into the live KV cache, score reused rows by
 * deviation (docs/DESIGN.md, Select), continue the scored rows from layer 1 on, and read prompt K/V back
 * for a new entry. Buffers and the scoring ops are made once per model; patch ops (bound to one
 * request's sources) once per request.
 */
export class ReuseKit {
  private readonly dev: GPUBuffer; // [ctx] |V_fresh - V_cached|_1 at layer 1
  private readonly devK: GPUBuffer; // [ctx] |K_fresh - K_cached|_1 at layer 1 (both rotated at the row)
  private readonly qProbe: GPUBuffer; // [H*hd] the probe row's layer-1 query
  private readonly posProbe: GPUBuffer; // [1] i32
  private readonly probsProbe: GPUBuffer; // [1, H, ctx]
  private readonly outProbe: GPUBuffer; // [H*hd]
  private readonly score: GPUBuffer; // [ctx]
  private readonly hidden: GPUBuffer; // [ctx, D] layer-1 input of each scored row, by position
  private readonly qKept: GPUBuffer; // [ctx, H*hd] layer-1 query (rotated) of each scored row, by position
  private readonly one: RowCount;
  private readonly len: RowCount;
  private readonly scoring: Segment | null; // embed, layer 0, layer 1 pre, deviation, layer 1 scatter
  private readonly probeOps: Op[]; // layer-1 attention of the probe row, then the score
  private readonly continued: Segment | null; // hidden, qKept[pos] → layer-1 attention on, the rest, logits
  private readonly buffers: GPUBuffer[];

  constructor(private readonly r: LlamaRunner) {
    const { device } = r.gpu;
    const c = r.cfg;
    const ctx = r.cache.ctx;
    const qDim = c.numHeads * c.headDim;
    const kvDim = c.numKvHeads * c.headDim;
    this.dev = storageBuffer(device, ctx * 4, 'reuse.dev');
    this.devK = storageBuffer(device, ctx * 4, 'reuse.devK');
    this.qProbe = storageBuffer(device, qDim * 4, 'reuse.qProbe');
    this.posProbe = storageBuffer(device, 4, 'reuse.posProbe');
    this.probsProbe = storageBuffer(device, c.numHeads * ctx * 4, 'reuse.probsProbe');
    this.outProbe = storageBuffer(device, qDim * 4, 'reuse.outProbe');
    this.score = storageBuffer(device, ctx * 4, 'reuse.score');
    this.one = new RowCount(device, 1, 'reuse.one');
    this.len = new RowCount(device, ctx, 'reuse.len');
    this.hidden = storageBuffer(device, ctx * c.hiddenSize * 4, 'reuse.hidden');
    this.qKept = storageBuffer(device, ctx * qDim * 4, 'reuse.qKept');
    this.buffers = [
      ...[this.dev, this.devK, this.qProbe, this.posProbe, this.probsProbe, this.outProbe, this.score],
      ...[this.hidden, this.qKept],
    ];
    const k = r.kernels;
    const L1 = r.graph.layers[1];
    const s = r.scratch;
    // Layer-1 |ΔV|_1 and |ΔK|_1 of every scored row, read between its fresh Q/K/V and its cache write.
    const deviation = (fresh: GPUBuffer, cached: GPUBuffer, dev: GPUBuffer, label: string) =>
      deviationOp(k, {
        pos: s.pos,
        v: fresh,
        vc: cached,
        dev,
        kvDim,
        headDim: c.headDim,
        dtype: r.cache.dtype,
        rows: r.rows,
        label,
      });
    this.scoring = L1
      ? scoringPass(r.graph, [
          deviation(s.v, r.cache.v[1], this.dev, 'reuse.deviation'),
          deviation(s.k, r.cache.k[1], this.devK, 'reuse.deviationK'),
        ])
      : null;
    this.probeOps = L1
      ? [
          attentionOp(k, {
            q: this.qProbe,
            kc: r.cache.k[1],
            vc: r.cache.v[1],
            dtype: r.cache.dtype,
            pos: this.posProbe,
            probs: this.probsProbe,
            out: this.outProbe,
            nHeads: c.numHeads,
            nKvHeads: c.numKvHeads,
            headDim: c.headDim,
            ctx,
            rows: this.one,
            label: 'reuse.probe',
            // layer 1's scale, window and soft-cap: a row outside its window gets weight 0, so no score
            ...attentionMask(c, 1),
          }),
          scoreOp(k, {
            probs: this.probsProbe,
            dev: this.dev,
            score: this.score,
            nHeads: c.numHeads,
            ctx,
            len: this.len,
            label: 'reuse.score',
          }),
        ]
      : [];
    // Layer 1's K/V of the scored rows are in the cache already and their queries in qKept: the
    // continued rows start at layer 1's attention, so nothing of layers 0–1 is computed twice.
    const resume = (table: GPUBuffer, out: GPUBuffer, dim: number, name: string) =>
      gatherRowsOps(k, {
        idx: s.pos, // positions are row indices of `hidden` and `qKept`
        table: [{ buffer: table, rowStart: 0, rows: ctx, format: 'f32' }],
        out,
        dim,
        rows: r.rows,
        label: `reuse.resume.${name}`,
      });
    this.continued = continueFromLayer1(r.graph, [
      ...resume(this.hidden, s.x, c.hiddenSize, 'x'),
      ...resume(this.qKept, s.q, qDim, 'q'),
    ]);
  }

  /** Whether deviation scoring is possible (it needs layer 1). */
  get canScore(): boolean {
    return this.scoring !== null;
  }

  /** Copy each source's rows into the live cache at their new positions, keys re-rotated by the shift. */
  async patch(sources: PatchSource[]): Promise<void> {
    const { device } = this.r.gpu;
    const c = this.r.cfg;
    const kvDim = this.r.cache.kvDim;
    const k: KernelContext = { ...this.r.kernels, owned: [] };
    const temp: GPUBuffer[] = [];
    const ops: Op[] = [];
    for (const src of sources) {
      const rows = src.rows;
      if (rows.length === 0) continue;
      // Host rows go up compacted: row j of the upload is source row rows[j].src.
      const upload = !src.hot;
      const rowmap = uploadU32(
        device,
        new Int32Array(rows.flatMap((p, j) => [upload ? j : p.src, p.dst, p.old, 0])),
        'patch.rowmap',
      );
      const count = new RowCount(device, rows.length, 'patch.rows');
      count.set(rows.length);
      temp.push(rowmap, count.buffer);
      const { dtype, group } = this.r.cache;
      const srcRows = rows.map((p) => p.src);
      const from = src.host?.q8Group ?? group; // the host K/V's q8 group (entries carry theirs)
      const pick = (all: KVArray) => kvConvert(kvGatherRows(all, kvDim, srcRows, from), from, dtype, group); // [n, kvDim]
      for (let l = 0; l < c.numLayers; l++) {
        let ksrc: GPUBuffer;
        let vsrc: GPUBuffer;
        if (src.hot) {
          ksrc = src.hot.k[l];
          vsrc = src.hot.v[l];
        } else if (src.host) {
          ksrc = uploadBytes(device, pick(src.host.k[l]), `patch.k${l}`);
          vsrc = uploadBytes(device, pick(src.host.v[l]), `patch.v${l}`);
          temp.push(ksrc, vsrc);
        } else {
          throw new InternalError('internal error: a patch source has neither hot nor host K/V');
        }
        ops.push(
          kvPatchOp(k, {
            rowmap,
            table: this.r.ropeTables[l], // the layer's own RoPE (Gemma 3's local layers)
            ksrc,
            vsrc,
            kc: this.r.cache.k[l],
            vc: this.r.cache.v[l],
            nKvHeads: c.numKvHeads,
            headDim: c.headDim,
            dtype,
            rows: count,
            label: `patch.L${l}`,
          }),
        );
      }
    }
    if (ops.length === 0) return; // nothing to patch: no submit, no wait for the queue
    submitOps(device, ops);
    await device.queue.onSubmittedWorkDone();
    for (const b of [...temp, ...k.owned]) b.destroy();
  }

  /**
   * The scoring pass over `rows` (consecutive positions; full layer 0, layer-1 Q/K/V: layer 0 and 1
   * caches become fresh, and each row's layer-1 input and query are kept for continueRows), then the
   * signals `want` asks for, read back in one copy, each [ctx] by position (valid at the rows'
   * positions): `dv`/`dk` layer-1 |ΔV|_1/|ΔK|_1, `paper` alpha·|ΔV|_1 with alpha from the layer-1
   * attention of the row at index `probe`.
   */
  async scoreRows(
    rows: Row[],
    probe: number,
    want: readonly ScoreSignal[],
  ): Promise<Partial<Record<ScoreSignal, Float32Array>>> {
    const r = this.r;
    const { device } = r.gpu;
    const s = r.scratch;
    const qDim = r.cfg.numHeads * r.cfg.headDim;
    const xBytes = r.cfg.hiddenSize * 4;
    const qBytes = qDim * 4;
    if (!this.scoring) throw new InternalError('internal error: a one-layer model has no scoring pass');
    for (let i = 1; i < rows.length; i++) {
      if (rows[i].position !== rows[0].position + i) {
        throw new InternalError('internal error: scoring rows must be consecutive positions');
      }
    }
    // Each step's layer-1 input and query are kept by position for continueRows.
    r.submitRows(rows, this.scoring, (enc, chunk) => {
      enc.copyBufferToBuffer(s.x, 0, this.hidden, chunk[0].position * xBytes, chunk.length * xBytes);
      enc.copyBufferToBuffer(s.q, 0, this.qKept, chunk[0].position * qBytes, chunk.length * qBytes);
    });
    const n = rows[rows.length - 1].position + 1;
    if (want.includes('paper')) {
      const enc = device.createCommandEncoder({ label: 'reuse.probe' });
      enc.copyBufferToBuffer(this.qKept, rows[probe].position * qBytes, this.qProbe, 0, qBytes);
      device.queue.submit([enc.finish()]);
      device.queue.writeBuffer(this.posProbe, 0, new Int32Array([rows[probe].position]));
      this.one.set(1);
      this.len.set(n);
      submitOps(device, this.probeOps);
    }
    const from: Record<ScoreSignal, GPUBuffer> = { paper: this.score, dv: this.dev, dk: this.devK };
    const read = await readF32Ranges(
      device,
      want.map((w) => from[w]),
      n,
    );
    return Object.fromEntries(want.map((w, i) => [w, read[i]]));
  }

  /**
   * Finish rows the last scoring pass covered: from their kept layer-1 input through layers 1..L-1
   * (K/V written at their positions) to the logits, without computing layer 0 a second time.
   */
  continueRows(rows: Row[], opts: ForwardOptions): Promise<ForwardResult> {
    if (!this.continued) throw new InternalError('internal error: a one-layer model has no scoring pass');
    return this.r.forward(rows, { ...opts, segment: this.continued });
  }

  destroy(): void {
    for (const b of this.buffers) b.destroy();
    this.one.destroy();
    this.len.destroy();
  }
}

/** The first `count` f32 of each of `srcs`, read back in one copy. */
async function readF32Ranges(device: GPUDevice, srcs: GPUBuffer[], count: number): Promise<Float32Array[]> {
  if (srcs.length === 0) return [];
  const bytes = count * 4;
  const staging = device.createBuffer({
    size: Math.max(4, srcs.length * bytes),
    usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
  });
  const enc = device.createCommandEncoder();
  for (const [i, src] of srcs.entries()) enc.copyBufferToBuffer(src, 0, staging, i * bytes, bytes);
  device.queue.submit([enc.finish()]);
  await staging.mapAsync(GPUMapMode.READ);
  const all = staging.getMappedRange();
  const out = srcs.map((_, i) => new Float32Array(all.slice(i * bytes, (i + 1) * bytes)));
  staging.unmap();
  staging.destroy();
  return out;
}

/** Read K and V of positions [0, n) of every layer: L × [n, kvDim] each, as the cache stores them (f16: bits, q8: groups). */
export async function readCacheRows(r: LlamaRunner, n: number): Promise<{ k: KVArray[]; v: KVArray[] }> {
  const { device } = r.gpu;
  const L = r.cfg.numLayers;
  const bytes = n * r.cache.rowBytes;
  const view = (b: ArrayBuffer): KVArray =>
    new ({ f32: Float32Array, f16: Uint16Array, q8: Uint8Array })[r.cache.dtype](b);
  const staging = device.createBuffer({
    size: Math.max(4, 2 * L * bytes),
    usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
  });
  const enc = device.createCommandEncoder();
  for (let l = 0; l < L; l++) {
    enc.copyBufferToBuffer(r.cache.k[l], 0, staging, 2 * l * bytes, bytes);
    enc.copyBufferToBuffer(r.cache.v[l], 0, staging, (2 * l + 1) * bytes, bytes);
  }
  device.queue.submit([enc.finish()]);
  await staging.mapAsync(GPUMapMode.READ);
  const all = staging.getMappedRange();
  const k: KVArray[] = [];
  const v: KVArray[] = [];
  for (let l = 0; l < L; l++) {
    k.push(view(all.slice(2 * l * bytes, (2 * l + 1) * bytes)));
    v.push(view(all.slice((2 * l + 1) * bytes, (2 * l + 2) * bytes)));
  }
  staging.unmap();
  staging.destroy();
  return { k, v };
}
