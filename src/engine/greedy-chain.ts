import type { LlamaRunner, Row } from '../llama/runner.ts';

/**
 * Greedy decode steps kept one ahead of the host: step k (k = 0, 1, ...) feeds the k-th answer token
 * at position `start + k`, step 0 from the host and every later one from the previous step's argmax
 * still on the GPU (LlamaRunner.submitGreedy), so the GPU starts step k + 1 while the host reads back
 * and streams step k. `extraRows()` gives the rows to recompute alongside each step (trickle).
 * The step after the last one consumed may have run for nothing (e.g. past a stop token): its K/V
 * lies beyond every position the caller records as computed. Call drain() before the runner is used
 * for anything else.
 */
export class GreedyChain {
  private readonly inflight: Promise<number>[] = [];
  private submitted = 0;

  constructor(
    private readonly runner: LlamaRunner,
    private readonly a: {
      firstToken: number;
      start: number; // position of step 0
      steps: number; // steps at most
      extraRows: () => Row[];
    },
  ) {}

  /** The id step k produces (k = how many were read before): the answer token k + 1. */
  async next(): Promise<number> {
    if (this.inflight.length === 0) this.submit();
    if (this.canSubmit()) this.submit(); // one ahead
    return this.inflight.shift()!;
  }

  /** Wait for the step still in flight (its id is not wanted). */
  async drain(): Promise<void> {
    const rest = this.inflight.splice(0);
    await Promise.allSettled(rest);
  }

  private canSubmit(): boolean {
    const pos = this.a.start + this.submitted;
    return this.submitted < this.a.steps && pos < this.runner.contextLength && this.inflight.length < 2;
  }

  private submit(): void {
    const k = this.submitted++;
    const rows = this.a.extraRows();
    rows.push({ token: k === 0 ? this.a.firstToken : 0, position: this.a.start + k });
    const id = this.runner.submitGreedy(rows, k > 0);
    id.catch(() => {}); // handled where it is awaited (next or drain)
    this.inflight.push(id);
  }
}
