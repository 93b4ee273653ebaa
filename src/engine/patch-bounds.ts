/**
 * Host-side bounds of the KV patch (shaders/kvpatch.wgsl): the kernel reads the RoPE table, which has
 * `contextLength` rows, at row |dst - old| and writes the live cache at row dst. Entries are checked at
 * ingest (positions < contextLength, strictly increasing: validateEntry), so these checks only catch
 * our own bugs, before a kernel could read past its table.
 */
import { InternalError } from '../errors.ts';
import type { EntryExpectation, KVEntry } from '../kvshare/entry.ts';
import type { PatchRow } from '../llama/reuse-kit.ts';

/** The entry's positions all lie below the expectation's context (positions are strictly increasing). */
export function fitsContext(e: KVEntry, expect: EntryExpectation): boolean {
  const ctx = expect.contextLength;
  return ctx === undefined || (e.tokens.length <= ctx && e.positions[e.positions.length - 1] < ctx);
}

/** Throws InternalError unless every row has 0 <= old, dst < contextLength (so |dst - old| < contextLength). */
export function checkPatchShifts(rowsByEntry: PatchRow[][], contextLength: number): void {
  for (const rows of rowsByEntry) {
    for (const r of rows) {
      const ok =
        Number.isInteger(r.old) &&
        Number.isInteger(r.dst) &&
        r.old >= 0 &&
        r.dst >= 0 &&
        r.old < contextLength &&
        r.dst < contextLength;
      if (!ok) {
        throw new InternalError(
          `internal error: KV patch row (src ${r.src}, old position ${r.old}, new position ${r.dst}) is outside the context of ${contextLength}`,
        );
      }
    }
  }
}
