/**
 * The `oracle` selector's signal (diagnostic only): the true K/V error of every patched row against a full
 * computation of the prompt. It costs a full prefill, so it measures how good a selector could be, never
 * saves time.
 */

import { readCacheRows } from '../llama/reuse.ts';
import type { LlamaRunner } from '../llama/runner.ts';
import { type KVArray, kvToF32 } from '../util/kv-dtype.ts';

export interface FreshKV {
  k: KVArray[]; // L × [n, kvDim]
  v: KVArray[]; // L × [n, kvDim]
}

/** Compute every row of the prompt from scratch and read its K/V back (call before patching). */
export async function freshKV(runner: LlamaRunner, ids: number[]): Promise<FreshKV> {
  await runner.forward(
    ids.map((token, position) => ({ token, position })),
    { logitRows: [ids.length - 1] },
  );
  return readCacheRows(runner, ids.length);
}

/**
 * Per position p < n: Σ over layers l of (|K_l[p] − FK_l[p]|_1 + |V_l[p] − FV_l[p]|_1) / m_l, FK/FV the
 * fresh rows, K/V the live cache now, m_l the mean fresh |FK_l[p]|_1 + |FV_l[p]|_1 (layers weigh alike). [n]
 */
export async function kvError(runner: LlamaRunner, fresh: FreshKV, n: number): Promise<Float32Array> {
  const live = await readCacheRows(runner, n);
  const d = runner.cache.kvDim;
  const err = new Float32Array(n); // [n]
  for (let l = 0; l < fresh.k.length; l++) {
    const [fk, fv, lk, lv] = [fresh.k[l], fresh.v[l], live.k[l], live.v[l]].map(kvToF32); // [n, kvDim] each
    let norm = 0;
    const row = new Float32Array(n); // [n]
    for (let p = 0; p < n; p++) {
      for (let c = p * d; c < (p + 1) * d; c++) {
        norm += Math.abs(fk[c]) + Math.abs(fv[c]);
        row[p] += Math.abs(lk[c] - fk[c]) + Math.abs(lv[c] - fv[c]);
      }
    }
    const m = norm / n || 1;
    for (let p = 0; p < n; p++) err[p] += row[p] / m;
  }
  return err;
}
