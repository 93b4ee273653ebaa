import type { Op, RowCount } from '../gpu/op.ts';
import { layerWindow } from '../model/layer-attention.ts';
import { ropeAttentionFactor } from '../model/rope-freqs.ts';
import type { ModelConfig } from '../model/types.ts';
import { argmaxOp } from '../ops/argmax.ts';
import { attentionOp } from '../ops/attention.ts';
import { type AttentionSplits, flashAttentionOps } from '../ops/attention-flash.ts';
import { type ForwardAttention, forwardAttention } from '../ops/attention-kernels.ts';
import { threadAttentionOps } from '../ops/attention-thread.ts';
import type { KernelContext } from '../ops/context.ts';
import { gatherRowsOps } from '../ops/embed.ts';
import { kvScatterOp } from '../ops/kvcache.ts';
import { matmulOps } from '../ops/matmul.ts';
import { rmsnormHeadsOp, rmsnormOp } from '../ops/rmsnorm.ts';
import { ropeOp } from '../ops/rope.ts';
import type { LiveCache } from './live-cache.ts';
import type { Scratch } from './scratch.ts';
import type { ModelWeights } from './weights.ts';

/** The forward pass in segments, so partial passes (KVShare's scoring pass) can reuse the same ops. */
export interface ForwardGraph {
  embed: Op[];
  /**
   * Per layer: `pre` = norm, q/k/v projections and RoPE; `scatter` = K/V into the cache; `post` = the
   * rest; `fused` = pre and scatter with RoPE and the cache write in one dispatch (the hot path).
   */
  layers: { pre: Op[]; scatter: Op; fused: Op[]; post: Op[] }[];
  logits: Op[];
}

/** A named run of the graph's ops that LlamaRunner.forward runs on given rows. */
export interface Segment {
  name: 'full' | 'scoring' | 'continue';
  ops: readonly Op[];
}

/** The whole forward pass: embed, every layer, the logits. */
export function fullPass(g: ForwardGraph): Segment {
  return {
    name: 'full',
    ops: [...g.embed, ...g.layers.flatMap((L) => [...L.fused, ...L.post]), ...g.logits],
  };
}

/**
 * KVShare's scoring pass (docs/DESIGN.md, Select), null for a one-layer model: layer 0 whole, then layer 1
 * up to its RoPE'd Q/K/V; `compare` (which reads the fresh layer-1 K/V against the cached ones) runs
 * before layer 1's cache write, which then makes layers 0–1 of the rows fresh. No logits.
 */
export function scoringPass(g: ForwardGraph, compare: readonly Op[]): Segment | null {
  const [L0, L1] = g.layers;
  if (!L1) return null;
  return { name: 'scoring', ops: [...g.embed, ...L0.fused, ...L0.post, ...L1.pre, ...compare, L1.scatter] };
}

/**
 * "Continue from layer 1": rows the scoring pass covered go on from layer 1's attention (their layer-1
 * K/V are in the cache); `resume` first puts their kept layer-1 input and query back into the scratch.
 * Then every later layer and the logits. Null for a one-layer model.
 */
export function continueFromLayer1(g: ForwardGraph, resume: readonly Op[]): Segment | null {
  const [, L1] = g.layers;
  if (!L1) return null;
  const later = g.layers.slice(2).flatMap((L) => [...L.fused, ...L.post]);
  return { name: 'continue', ops: [...resume, ...L1.post, ...later, ...g.logits] };
}

/**
 * The forward pass of every supported architecture for a set of rows {token, position}, recorded once
 * as ops: the Llama block, with small per-architecture steps where a config asks for them (Qwen2's
 * q/k/v biases, Qwen3's and Gemma 3's q/k norms, longrope's query factor, sliding windows, Gemma's
 * embedding scale, post-norms, GeGLU and soft-caps). `rows` counts the rows of this step, `logitRows`
 * the rows that need logits; `ropeTables[l]` is layer l's RoPE table (Gemma 3's local layers have
 * their own).
 */
export function buildForwardGraph(
  k: KernelContext,
  cfg: ModelConfig,
  w: ModelWeights,
  cache: LiveCache,
  s: Scratch,
  a: { rows: RowCount; logitRows: RowCount; ropeTables: GPUBuffer[]; splits: AttentionSplits },
): ForwardGraph {
  const { rows, logitRows } = a;
  const D = cfg.hiddenSize;
  const F = cfg.intermediateSize;
  const H = cfg.numHeads;
  const KV = cfg.numKvHeads;
  const hd = cfg.headDim;
  const qDim = H * hd;
  const kvDim = KV * hd;
  // x = embed[tokens] (Gemma: × √D, in f32 as llama.cpp)
  const embedScale = cfg.gemma ? Math.fround(Math.sqrt(D)) : undefined;
  const embed = gatherRowsOps(k, {
    idx: s.tokens,
    table: w.embed,
    out: s.x,
    dim: D,
    rows,
    label: 'embed',
    scale: embedScale,
  });
  // Gemma: a sublayer's output is rmsnorm'd before the residual add (post-norm, the add folded in):
  // the projection writes xn, then x += rmsnorm(xn) * w. Elsewhere the projection adds into x itself.
  const residual = (post: GPUBuffer | undefined, name: string) =>
    post
      ? {
          y: s.xn,
          accumulate: false,
          after: [
            rmsnormOp(k, {
              x: s.xn,
              w: post,
              out: s.x,
              dim: D,
              eps: cfg.rmsNormEps,
              rows,
              accumulate: true,
              label: name,
            }),
          ],
        }
      : { y: s.x, accumulate: true, after: [] };

  const layers = w.layers.map((L, l) => {
    let ops: Op[] = [];
    const at = (name: string) => `L${l}.${name}`;
    // attention block: x += Wo · attn(rope(Wq·xn), rope(Wk·xn), Wv·xn), xn = rmsnorm(x)
    ops.push(
      rmsnormOp(k, {
        x: s.x,
        w: L.attnNorm,
        out: s.xn,
        dim: D,
        eps: cfg.rmsNormEps,
        rows,
        label: at('attn_norm'),
      }),
    );
    ops.push(
      ...matmulOps(k, { x: s.xn, w: L.wq, bias: L.bq, y: s.q, K: D, outStride: qDim, rows, label: at('q') }),
    );
    ops.push(
      ...matmulOps(k, { x: s.xn, w: L.wk, bias: L.bk, y: s.k, K: D, outStride: kvDim, rows, label: at('k') }),
    );
    ops.push(
      ...matmulOps(k, { x: s.xn, w: L.wv, bias: L.bv, y: s.v, K: D, outStride: kvDim, rows, label: at('v') }),
    );
    // Qwen3, Gemma 3: each query and key head rmsnorm'd (q_norm / k_norm) before RoPE
    if (L.qNorm && L.kNorm) {
      ops.push(
        rmsnormHeadsOp(k, {
          x: s.q,
          w: L.qNorm,
          nHeads: H,
          rowStride: qDim,
          second: { x: s.k, w: L.kNorm, nHeads: KV, rowStride: kvDim },
          headDim: hd,
          eps: cfg.rmsNormEps,
          rows,
          label: at('qk_norm'),
        }),
      );
    }
    // RoPE frequencies (scaled, partial) live in the table, so every rotation agrees; longrope's
    // attention factor m on the rotated dims of q and k is m² on q's alone, so cached keys stay
    // plainly rotated
    const qScale = { factor: ropeAttentionFactor(cfg.ropeScaling) ** 2, pairs: (cfg.rotaryDim ?? hd) / 2 };
    const rope = { pos: s.pos, table: a.ropeTables[l], headDim: hd, rows, qScale };
    const second = { x: s.k, nHeads: KV, rowStride: kvDim };
    const qk = { ...rope, x: s.q, nHeads: H, rowStride: qDim, second };
    const cacheWrite = { v: s.v, kc: cache.k[l], vc: cache.v[l], dtype: cache.dtype };
    const fused = [...ops, ropeOp(k, { ...qk, cache: cacheWrite, label: at('rope_kv') })];
    ops.push(ropeOp(k, { ...qk, label: at('rope_qk') }));
    const pre = ops;
    const scatter = kvScatterOp(k, {
      pos: s.pos,
      k: s.k,
      v: s.v,
      kc: cache.k[l],
      vc: cache.v[l],
      kvDim,
      headDim: hd,
      dtype: cache.dtype,
      rows,
      label: at('kv'),
    });
    ops = [];
    // attn = softmax(q·K · scale) V over cache positions <= pos (Gemma: its own scale and the scores
    // soft-capped; sliding-window layers: the last `window` positions), the variant per step chosen by
    // forwardAttention (src/ops/attention-kernels.ts: the table, and where each measured faster).
    const att = {
      q: s.q,
      kc: cache.k[l],
      vc: cache.v[l],
      dtype: cache.dtype,
      pos: s.pos,
      out: s.attn,
      rows,
      ...attentionMask(cfg, l),
    };
    const heads = { nHeads: H, nKvHeads: KV, headDim: hd };
    const variants: Partial<Record<ForwardAttention, Op[]>> = {};
    if (forwardAttention(k, heads, 1) === 'thread') {
      variants.thread = threadAttentionOps(k, {
        ...att,
        ...heads,
        scores: s.probs, // [maxRows, H, ctx]: rows.n <= maxRows
        ctx: cache.ctx,
        chunks: a.splits.chunks,
        label: at('attention.thread'),
      });
    } else {
      variants.flash = flashAttentionOps(k, {
        ...att,
        ...heads,
        part: s.attnPart,
        splits: a.splits,
        label: at('attention.flash'),
      });
      variants.attend = [
        attentionOp(k, { ...att, ...heads, probs: s.probs, ctx: cache.ctx, label: at('attention.many') }),
      ];
    }
    ops.push({
      label: at('attention'),
      encode: (pass) => {
        for (const op of variants[forwardAttention(k, heads, rows.n)]!) op.encode(pass);
      },
    });
    // x += Wo · attn (the residual add is the o projection's epilogue; Gemma: x += rmsnorm(Wo · attn))
    const afterAttn = residual(L.postAttnNorm, at('post_attn_norm'));
    ops.push(
      ...matmulOps(k, {
        x: s.attn,
        w: L.wo,
        y: afterAttn.y,
        K: qDim,
        outStride: D,
        rows,
        label: at('o'),
        accumulate: afterAttn.accumulate,
      }),
      ...afterAttn.after,
    );

    // MLP block: x += Wdown · (silu(Wgate·xn) * Wup·xn), xn = rmsnorm(x) (Gemma: gelu_tanh, post-norm)
    ops.push(
      rmsnormOp(k, {
        x: s.x,
        w: L.mlpNorm,
        out: s.xn,
        dim: D,
        eps: cfg.rmsNormEps,
        rows,
        label: at('mlp_norm'),
      }),
    );
    ops.push(
      ...matmulOps(k, { x: s.xn, w: L.wGate, y: s.gate, K: D, outStride: F, rows, label: at('gate') }),
    );
    // act = silu(gate) * (Wup · xn): SwiGLU is the up projection's epilogue (Gemma: GeGLU, gelu_tanh)
    ops.push(
      ...matmulOps(k, {
        x: s.xn,
        w: L.wUp,
        y: s.act,
        K: D,
        outStride: F,
        rows,
        label: at('up'),
        gate: s.gate,
        gateAct: cfg.gemma ? 'gelu_tanh' : 'silu',
      }),
    );
    // x += Wdown · act (residual add in the epilogue; Gemma: x += rmsnorm(Wdown · act))
    const afterMlp = residual(L.postMlpNorm, at('post_mlp_norm'));
    ops.push(
      ...matmulOps(k, {
        x: s.act,
        w: L.wDown,
        y: afterMlp.y,
        K: F,
        outStride: D,
        rows,
        label: at('down'),
        accumulate: afterMlp.accumulate,
      }),
      ...afterMlp.after,
    );
    return { pre, scatter, fused, post: ops };
  });

  // logits only for the selected rows: ids = argmax(lm_head · rmsnorm(x[logitIdx]))
  const lr = logitRows;
  const ops: Op[] = [];
  ops.push(
    ...gatherRowsOps(k, {
      idx: s.logitIdx,
      table: [{ buffer: s.x, rowStart: 0, rows: rows.max, format: 'f32' }],
      out: s.xl,
      dim: D,
      rows: lr,
      label: 'pick_rows',
    }),
  );
  ops.push(
    rmsnormOp(k, {
      x: s.xl,
      w: w.norm,
      out: s.xln,
      dim: D,
      eps: cfg.rmsNormEps,
      rows: lr,
      label: 'final_norm',
    }),
  );
  ops.push(
    ...matmulOps(k, {
      x: s.xln,
      w: w.lmHead,
      y: s.logits,
      K: D,
      outStride: cfg.vocabSize,
      rows: lr,
      label: 'lm_head',
      softcap: cfg.finalLogitSoftcap, // Gemma 2: logits c·tanh(logits / c)
    }),
  );
  ops.push(argmaxOp(k, { logits: s.logits, out: s.ids, vocab: cfg.vocabSize, rows: lr, label: 'argmax' }));
  return { embed, layers, logits: ops };
}

/** Layer l's attention score scale, sliding window and logit soft-cap (the probe's attention uses the same). */
export function attentionMask(
  cfg: ModelConfig,
  l: number,
): { scale?: number; window: number; softcap?: number } {
  return { scale: cfg.attentionScale, window: layerWindow(cfg, l), softcap: cfg.attnLogitSoftcap };
}
