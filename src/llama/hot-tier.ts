import type { GpuCacheStats } from '../api/cache.ts';
import { InvalidArgumentError } from '../errors.ts';
import { storageBuffer, uploadBytes } from '../gpu/buffers.ts';
import { type KVArray, kvConvert, kvDtypeOf, kvLength } from '../util/kv-dtype.ts';
import type { LiveCache } from './live-cache.ts';

/** K/V of one cache entry kept on the GPU: a hit on it is patched GPU→GPU, with nothing uploaded. */
export interface HotEntry {
  k: GPUBuffer[]; // L × [n, kvDim] of the live cache's dtype
  v: GPUBuffer[]; // L × [n, kvDim] of the live cache's dtype
  rows: number; // n
  bytes: number;
}

/**
 * The hot tier of the KV cache: recently used entries' K/V in GPU buffers under a byte budget, least
 * recently used evicted first. Entries are copied in from the live cache right after it held them
 * (write-back), so keeping one costs a GPU copy; entries a request used from host memory are promoted
 * (uploaded whole) after it answered.
 */
export class HotTier {
  private readonly entries = new Map<string, HotEntry>(); // least recently used first
  private bytes = 0;
  private promotions = 0;

  constructor(
    private readonly device: GPUDevice,
    private readonly live: LiveCache,
    readonly budgetBytes: number,
  ) {
    if (!Number.isFinite(budgetBytes) || budgetBytes < 0) {
      throw new InvalidArgumentError(`gpuCacheBudgetBytes must be a finite number >= 0, got ${budgetBytes}`);
    }
  }

  /** Bytes an entry of `rows` positions takes on the GPU. */
  bytesFor(rows: number): number {
    return 2 * this.live.numLayers * rows * this.live.rowBytes;
  }

  /**
   * Copy rows [0, rows) of every layer of the live cache into a resident entry `id`, evicting least
   * recently used entries to make room. Returns false (and keeps nothing) when it cannot fit at all.
   */
  keepFromLive(id: string, rows: number): boolean {
    if (!this.makeRoom(id, rows)) return false;
    const layerBytes = rows * this.live.rowBytes;
    const enc = this.device.createCommandEncoder({ label: 'resident.keep' });
    const copy = (src: GPUBuffer[], kind: string) =>
      src.map((b, l) => {
        const dst = storageBuffer(this.device, layerBytes, `resident.${kind}${l}`);
        enc.copyBufferToBuffer(b, 0, dst, 0, layerBytes);
        return dst;
      });
    const entry = { k: copy(this.live.k, 'k'), v: copy(this.live.v, 'v'), rows, bytes: this.bytesFor(rows) };
    this.device.queue.submit([enc.finish()]);
    this.insert(id, entry);
    return true;
  }

  /**
   * Promote an entry used from host memory (read from IndexedDB, imported from a pack, or put): upload
   * all its rows into a resident entry `id`, evicting least recently used entries to make room, so its
   * next hit is patched GPU→GPU. Returns false (and keeps nothing) when it cannot fit at all.
   */
  promote(id: string, host: { k: KVArray[]; v: KVArray[]; q8Group?: number }, rows: number): boolean {
    if (!this.makeRoom(id, rows)) return false;
    const { dtype, group } = this.live;
    const from = host.q8Group ?? group; // the host K/V's q8 group (entries carry theirs)
    const up = (src: KVArray[], kind: string) =>
      src.map((a, l) => {
        const rowsOf = a.subarray(0, kvLength(kvDtypeOf(a), rows * this.live.kvDim, from)); // [rows, kvDim]
        return uploadBytes(this.device, kvConvert(rowsOf, from, dtype, group), `resident.${kind}${l}`);
      });
    this.insert(id, { k: up(host.k, 'k'), v: up(host.v, 'v'), rows, bytes: this.bytesFor(rows) });
    this.promotions++;
    return true;
  }

  /** Drop `id` and evict least recently used entries until `rows` more fit; false if they never can. */
  private makeRoom(id: string, rows: number): boolean {
    const bytes = this.bytesFor(rows);
    this.delete(id);
    if (rows < 1 || bytes > this.budgetBytes) return false;
    for (const old of [...this.entries.keys()]) {
      if (this.bytes + bytes <= this.budgetBytes) break;
      this.delete(old);
    }
    return true;
  }

  private insert(id: string, e: HotEntry): void {
    this.entries.set(id, e);
    this.bytes += e.bytes;
  }

  /** The resident entry, marked most recently used; undefined when not resident. */
  get(id: string): HotEntry | undefined {
    const e = this.entries.get(id);
    if (!e) return undefined;
    this.entries.delete(id);
    this.entries.set(id, e);
    return e;
  }

  has(id: string): boolean {
    return this.entries.has(id);
  }

  delete(id: string): boolean {
    const e = this.entries.get(id);
    if (!e) return false;
    this.entries.delete(id);
    this.bytes -= e.bytes;
    for (const b of [...e.k, ...e.v]) b.destroy();
    return true;
  }

  /** Drop resident entries whose id is not in `ids` (evicted or deleted from the cache). */
  retain(ids: Set<string>): void {
    for (const id of [...this.entries.keys()]) if (!ids.has(id)) this.delete(id);
  }

  clear(): void {
    for (const id of [...this.entries.keys()]) this.delete(id);
  }

  stats(): GpuCacheStats {
    return {
      gpuEntries: this.entries.size,
      gpuBytes: this.bytes,
      gpuBudgetBytes: this.budgetBytes,
      gpuPromotions: this.promotions,
    };
  }
}
