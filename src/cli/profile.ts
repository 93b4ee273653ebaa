import { acquireDevice } from '../gpu/device.ts';
import { nodeGPU } from '../gpu/node-gpu.ts';
import { nodeShaderLibrary } from '../gpu/shaders-node.ts';
import { loadRunner } from '../llama/load-runner.ts';
import { profileStep } from '../llama/profile.ts';
import type { Row } from '../llama/runner.ts';
import type { QuantizeOption } from '../model/types.ts';
import { type KVDtype, resolveKVDtype } from '../util/kv-dtype.ts';

/** Time per op kind (labels with the layer prefix `L<n>.` and the part suffix `[i]` removed). */
export interface OpKindTime {
  kind: string;
  ms: number;
  count: number;
}

export interface StepProfile {
  rows: number;
  totalMs: number;
  /** Median time of an empty submit: with isolated submits each op's time includes about this much. */
  baselineMs: number;
  /** 'timestamps': one submit, a timestamp before and after each op; else one submit per op. */
  method: 'timestamps' | 'isolated submits';
  kinds: OpKindTime[];
}

export function opKind(label: string): string {
  return label.replace(/^L\d+\./, '').replace(/\[\d+\]/g, '');
}

export function groupByKind(ops: { label: string; ms: number }[]): OpKindTime[] {
  const byKind = new Map<string, OpKindTime>();
  for (const o of ops) {
    const kind = opKind(o.label);
    const t = byKind.get(kind) ?? { kind, ms: 0, count: 0 };
    t.ms += o.ms;
    t.count++;
    byKind.set(kind, t);
  }
  return [...byKind.values()].sort((a, b) => b.ms - a.ms);
}

/**
 * Per-op profile (timestamps around every op of one submit where the adapter has timestamp
 * queries, else isolated submits: every op waits for the previous one to finish) of one prefill
 * step of `promptIds` and one decode step after it, on a runner of its own, with the weights
 * quantized on load as `quantize` asks and K/V stored as `kvDtype` (as the benchmarked engine loads them).
 */
export async function profileModel(
  model: string,
  promptIds: number[],
  quantize?: QuantizeOption,
  kvDtype?: KVDtype,
): Promise<{ weightBytes: number; steps: StepProfile[] }> {
  const gpu = await acquireDevice(await nodeGPU());
  try {
    const { runner } = await loadRunner(gpu, nodeShaderLibrary(), model, {
      quantize,
      runner: (config) => ({
        contextLength: promptIds.length + 2,
        kvDtype: resolveKVDtype(kvDtype, config.headDim),
      }),
    });
    const prompt: Row[] = promptIds.map((token, position) => ({ token, position }));
    const decode: Row[] = [{ token: promptIds[0], position: promptIds.length }];
    await runner.forward(prompt.slice(0, 8)); // compile the pipelines
    await runner.forward(decode);
    const out: StepProfile[] = [];
    for (const rows of [prompt.slice(0, runner.rows.max), decode]) {
      const p = await profileStep(runner, rows);
      const kinds = groupByKind(p.ops);
      const totalMs = kinds.reduce((a, k) => a + k.ms, 0);
      out.push({ rows: rows.length, totalMs, baselineMs: p.baselineMs, method: p.method, kinds });
    }
    const weightBytes = runner.weights.bytes;
    runner.destroy();
    return { weightBytes, steps: out };
  } finally {
    gpu.device.destroy();
  }
}

export function formatProfile(p: StepProfile): string {
  const lines = [
    `profile of one ${p.rows === 1 ? 'decode' : 'prefill'} step (${p.rows} rows): ${p.totalMs.toFixed(1)} ms ${p.method === 'timestamps' ? 'by timestamps in one submit' : `in isolated submits (empty submit ${p.baselineMs.toFixed(2)} ms)`}`,
    '  op                      ops      ms  share',
  ];
  for (const k of p.kinds) {
    const share = ((100 * k.ms) / p.totalMs).toFixed(1);
    lines.push(
      `  ${k.kind.padEnd(22)} ${String(k.count).padStart(4)} ${k.ms.toFixed(2).padStart(8)} ${share.padStart(5)}%`,
    );
  }
  return lines.join('\n');
}
