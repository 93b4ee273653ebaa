// One model file run on the GPU the way the convert tests compare formats: logits at every prompt
// position, then greedy ids, through the runner (no engine, no cache).
import { nodeShaderLibrary } from '../../src/gpu/shaders-node.ts';
import { LlamaRunner } from '../../src/llama/runner.ts';
import { loadModelFiles } from '../../src/model/load.ts';
import { testGpu } from './gpu.ts';

/** Logits at every position of `prompt` ([prompt.length, V]) and the next `steps` greedy ids. */
export async function promptLogitsAndGreedy(
  location: string,
  prompt: number[],
  steps: number,
): Promise<{ logits: Float32Array; ids: number[] }> {
  const m = await loadModelFiles(location, { prep: { keep: 'gpu' } });
  const r = await LlamaRunner.build(await testGpu(), nodeShaderLibrary(), m.config, m.tensors, {
    contextLength: 128,
    maxRows: 8,
    maxLogitRows: 8,
  });
  try {
    const rows = prompt.map((token, position) => ({ token, position }));
    let out = await r.forward(rows, { logitRows: rows.map((_, i) => i), readLogits: true });
    const logits = out.logits as Float32Array;
    const ids: number[] = [];
    for (let pos = prompt.length; ids.length < steps; pos++) {
      const next = out.ids[out.ids.length - 1];
      ids.push(next);
      out = await r.forward([{ token: next, position: pos }]);
    }
    return { logits, ids };
  } finally {
    r.destroy();
  }
}

/** max |a − b| over max |a|. */
export function relDiff(a: Float32Array, b: Float32Array): number {
  let d = 0;
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    d = Math.max(d, Math.abs(a[i] - b[i]));
    m = Math.max(m, Math.abs(a[i]));
  }
  return d / m;
}
