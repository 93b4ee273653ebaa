/**
 * One engine per model per page, shared by every `<kvshare-chat>` on it. The first component that
 * asks for a model URL starts an engine (a Web Worker, src/client) and loads the model once; the
 * others get the same engine and the same load. Each holder keeps a lease; when the last lease is
 * released the worker is terminated, which frees its GPU device.
 *
 * Requests from several components need no coordination here: the engine serves them one at a time.
 */
import { createEngine, type EngineClient, type LoadProgress, type ModelInfo } from '../client/index.ts';

export type EngineFactory = () => EngineClient;

export interface EngineLease {
  /** The shared engine's id on this page (e.g. 'kvshare-engine-1'). */
  readonly engineId: string;
  /** The model's absolute URL. */
  readonly model: string;
  readonly engine: EngineClient;
  /** Settles once the model is loaded (or failed to load); the same promise for every holder. */
  readonly ready: Promise<ModelInfo>;
  /** Stop receiving progress and drop this hold on the engine (idempotent). */
  release(): void;
}

interface PoolEntry {
  engineId: string;
  model: string;
  engine: EngineClient;
  ready: Promise<ModelInfo>;
  holders: number;
  lastProgress: LoadProgress | null;
  listeners: Set<(p: LoadProgress) => void>;
}

export class EnginePool {
  private readonly entries = new Map<string, PoolEntry>();
  private nextId = 1;

  constructor(private readonly factory: EngineFactory = () => createEngine()) {}

  /** Engines (workers) alive now. */
  get size(): number {
    return this.entries.size;
  }

  /**
   * A hold on the engine for `model` (an absolute URL; 'x' and 'x/' are the same model), loading it
   * on first use. `onProgress` receives the load's latest event at once, then the following ones.
   */
  acquire(model: string, onProgress?: (p: LoadProgress) => void): EngineLease {
    const key = model.replace(/\/+$/, '');
    const entry = this.entries.get(key) ?? this.start(key);
    entry.holders++;
    if (onProgress) {
      entry.listeners.add(onProgress);
      if (entry.lastProgress) onProgress(entry.lastProgress);
    }
    let held = true;
    return {
      engineId: entry.engineId,
      model: entry.model,
      engine: entry.engine,
      ready: entry.ready,
      release: () => {
        if (!held) return;
        held = false;
        if (onProgress) entry.listeners.delete(onProgress);
        if (--entry.holders === 0) this.stop(entry);
      },
    };
  }

  private start(model: string): PoolEntry {
    const engine = this.factory();
    const entry: PoolEntry = {
      engineId: `kvshare-engine-${this.nextId++}`,
      model,
      engine,
      holders: 0,
      lastProgress: null,
      listeners: new Set(),
      ready: engine.load(model, {
        onProgress: (p) => {
          entry.lastProgress = p;
          for (const listen of [...entry.listeners]) listen(p);
        },
      }),
    };
    // A failed load keeps nothing: its worker goes now, and the next component asking for this
    // model starts afresh. (Holders still release their leases; that is then a no-op.)
    entry.ready.catch(() => this.stop(entry));
    this.entries.set(model, entry);
    return entry;
  }

  private stop(entry: PoolEntry): void {
    // Stopped already (a failed load, then its holders' releases): nothing left to do.
    if (this.entries.get(entry.model) !== entry) return;
    this.entries.delete(entry.model);
    entry.listeners.clear();
    // The worker holds the GPU device: terminating it frees everything, loaded or still loading.
    entry.engine.terminate();
  }
}

let pagePool: EnginePool | null = null;

/** The pool every `<kvshare-chat>` of this page (this copy of the library) shares; made on first use. */
export function sharedEnginePool(): EnginePool {
  pagePool ??= new EnginePool();
  return pagePool;
}
