// llama.cpp (the npm package node-llama-cpp, its prebuilt CPU binary, offline) as a judge: logits of
// a GGUF file over a token sequence, F32 KV cache, no flash attention.
import {
  type ControlledEvaluateInputItem,
  getLlama,
  type Llama,
  LlamaLogLevel,
  type LlamaModel,
  type Token,
} from 'node-llama-cpp';

let llama: Promise<Llama> | undefined;

/**
 * Context size of every evaluation: the judged runners use the same, as longrope picks its factors
 * by the context (long ones past the original context).
 */
export const CONTEXT = 256;

/** The shared CPU backend; never builds or downloads (build: 'never'). */
function backend(): Promise<Llama> {
  llama ??= getLlama({ gpu: false, build: 'never', progressLogs: false, logLevel: LlamaLogLevel.error });
  return llama;
}

/** A GGUF file loaded in llama.cpp: logits over token ids and greedy continuations. */
export class LlamaCppJudge {
  private constructor(private readonly model: LlamaModel) {}

  static async load(path: string): Promise<LlamaCppJudge> {
    return new LlamaCppJudge(await (await backend()).loadModel({ modelPath: path }));
  }

  /** llama.cpp's tokenization of `text` from the file's vocabulary (no BOS). */
  tokenize(text: string): number[] {
    return this.model.tokenize(text).map(Number);
  }

  /** A fresh context: f32 K/V, no flash attention, one thread (deterministic, comparable with ours). */
  private context() {
    return this.model.createContext({
      contextSize: CONTEXT,
      batchSize: CONTEXT,
      flashAttention: false,
      threads: 1,
      experimentalKvCacheKeyType: 'F32',
      experimentalKvCacheValueType: 'F32',
    });
  }

  /** Logits [ids.length, V] of each position (ids fed as they are: no BOS added). */
  async logits(ids: number[], vocab: number): Promise<Float32Array> {
    const ctx = await this.context();
    try {
      const seq = ctx.getSequence();
      const res = await seq.controlledEvaluate(
        ids.map((t): ControlledEvaluateInputItem => [t as Token, { generateNext: { logits: true } }]),
      );
      const out = new Float32Array(ids.length * vocab); // [n, V]
      res.forEach((r, i) => {
        const l = r?.next?.logits;
        if (!l || l.size !== vocab)
          throw new Error(`llama.cpp gave ${l?.size} logits at row ${i}, not ${vocab}`);
        for (const [tok, v] of l) out[i * vocab + tok] = v;
      });
      return out;
    } finally {
      await ctx.dispose();
    }
  }

  /** `steps` greedy ids after `ids` (argmax of llama.cpp's logits), and the logits of each step [steps, V]. */
  async greedy(
    ids: number[],
    steps: number,
    vocab: number,
  ): Promise<{ ids: number[]; logits: Float32Array }> {
    const ctx = await this.context();
    try {
      const seq = ctx.getSequence();
      const out: number[] = [];
      const logits = new Float32Array(steps * vocab); // [steps, V]
      let feed: number[] = ids;
      for (let s = 0; s < steps; s++) {
        const res = await seq.controlledEvaluate(
          feed.map(
            (t, i): ControlledEvaluateInputItem =>
              i === feed.length - 1 ? [t as Token, { generateNext: { logits: true } }] : (t as Token),
          ),
        );
        const l = res[feed.length - 1]?.next?.logits;
        if (!l) throw new Error('llama.cpp gave no logits');
        let best = -1;
        let bestV = Number.NEGATIVE_INFINITY;
        for (const [tok, v] of l) {
          logits[s * vocab + tok] = v;
          if (v > bestV || (v === bestV && tok < best)) [best, bestV] = [tok, v];
        }
        out.push(best);
        feed = [best];
      }
      return { ids: out, logits };
    } finally {
      await ctx.dispose();
    }
  }

  async dispose(): Promise<void> {
    await this.model.dispose();
  }
}
