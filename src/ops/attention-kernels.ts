/**
 * Which attention kernel runs, in one place. The forward pass (graph.ts) and the KVShare probe build
 * their ops through the builders named below; these functions are the only decisions.
 *
 * | variant       | shaders/ file, entry points                 | consts    | launch (workgroups)                                   | when                                         |
 * | ------------- | ------------------------------------------- | --------- | ----------------------------------------------------- | -------------------------------------------- |
 * | `thread`      | software/attention_thread: scores_pass, output_pass | G = H/KV | scores [chunks, KV, rows]; output [ceil(hd/32), H, rows] | software adapter, head shape fits (any rows) |
 * | `flash`       | attention_flash: split, combine             | —         | split [H, splits, rows]; combine [H or 0, rows]       | GPU, rows ≤ FLASH_MAX_ROWS (decode)          |
 * | `attend`      | attention: attend                           | WG = 64   | [H, rows]                                             | GPU, more rows (prefill)                     |
 * | `attend` one  | attention: attend                           | WG = 256  | [H, 1]                                                | one row that keeps its weights (the probe)   |
 * | `attend_thread` | attention: attend_thread                  | —         | [ceil(H·rows / 64)]                                   | software, several rows keeping weights       |
 *
 * Every variant reads the KV cache through the `kv_f32` include slot (kv_f16 / kv_q8 for an f16 /
 * q8 cache; kv-format.ts). Measured (docs/BENCHMARKS.md, `bench/attention.ts`): on lavapipe `thread`
 * is 3.7x flash at 1 row and 144 positions and 2x `attend` at 128 rows and 512 positions (2.4x on
 * SwiftShader); prefill attention 90 → 45 ms (lavapipe) and 416 → 172 ms (SwiftShader) at 128 rows
 * and 512 positions. Since attention.wgsl reads K/V four values at a time (2026-12-07), `thread` is
 * 1.2-1.5x `attend_thread` at 128 rows and 144-512 positions on lavapipe (SmolLM2 shape, f32).
 * Flash decoding splits long spans over up to FLASH_MAX_SPLITS workgroups per (row, head) on GPUs.
 */
import type { KernelContext } from './context.ts';

/** Row counts up to this (decode, with a few trickle rows) take flash attention on GPUs; more take `attend`. */
export const FLASH_MAX_ROWS = 4;
/** Heads per KV head at most of `thread` (its scores pass keeps one vec4 accumulator per head of a group). */
export const THREAD_MAX_GROUP = 16;

/** Whether `thread` takes this head shape: vec4 loads, at most THREAD_MAX_GROUP heads per KV head. */
export function threadAttentionFits(a: { nHeads: number; nKvHeads: number; headDim: number }): boolean {
  return a.headDim % 4 === 0 && a.nHeads % a.nKvHeads === 0 && a.nHeads / a.nKvHeads <= THREAD_MAX_GROUP;
}

export type ForwardAttention = 'thread' | 'flash' | 'attend';

/** The forward pass's attention on this adapter and head shape for a step of `rows` rows. */
export function forwardAttention(
  k: KernelContext,
  heads: { nHeads: number; nKvHeads: number; headDim: number },
  rows: number,
): ForwardAttention {
  if (k.software && threadAttentionFits(heads)) return 'thread';
  return rows <= FLASH_MAX_ROWS ? 'flash' : 'attend';
}

/** attentionOp's kernel for a step of `rows` rows (it keeps the weights: the probe, and `attend`). */
export function attendKernel(
  k: KernelContext,
  rows: number,
): { entry: 'attend' | 'attend_thread'; consts: Record<string, number> } {
  if (rows === 1) return { entry: 'attend', consts: { WG: 256 } }; // one row spreads positions over more threads
  return k.software ? { entry: 'attend_thread', consts: {} } : { entry: 'attend', consts: { WG: 64 } };
}
