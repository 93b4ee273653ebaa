/** What a part of the check gets from the kit (scripts/gpu-check/kit.ts). */
export interface PartContext {
  /** The software-adapter rehearsal: small shapes, short budgets. */
  dryRun: boolean;
  /** The kit's assets folder (stories260K-hf, stories260K-golden). */
  assets: string;
  /** A scratch folder for synthesized models (kept between parts of one run). */
  work: string;
  /** The kit's bundled script: parts start `node <self> kvshare ...` / `ttft-reuse ...` children. */
  self: string;
  /** Milliseconds this part has before it is killed. */
  budgetMs: number;
  /** Records the part's result so far (written at once: a part killed later keeps it). */
  save(data: PartData): void;
}

/** A part's result: `pass` false fails the check; everything else is reported as is. */
export interface PartData {
  pass: boolean;
  [key: string]: unknown;
}

export type Part = (ctx: PartContext) => Promise<PartData>;
