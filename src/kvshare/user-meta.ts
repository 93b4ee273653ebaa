/**
 * An entry's application metadata (`cache.add(..., {meta})`): a flat object of JSON scalars that the
 * cache stores with the entry and shows in listings, never reads. Checked where it comes in (add, entry
 * codec, IndexedDB index records), capped so a stored or packed entry cannot carry an unbounded blob.
 */
import type { EntryUserMeta } from '../api/cache.ts';

export type { EntryUserMeta } from '../api/cache.ts';

/** Most UTF-8 bytes of the serialized (JSON) metadata. */
export const MAX_META_BYTES = 4096;
/** Most characters of one key. */
export const MAX_META_KEY_CHARS = 64;

/**
 * A fresh copy of `value` when it is valid metadata; otherwise calls `fail` with the reason. An empty
 * object is no metadata (undefined).
 */
export function checkUserMeta(value: unknown, fail: (msg: string) => never): EntryUserMeta | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    fail('meta must be a plain object');
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) fail('meta must be a plain object');
  if (Object.getOwnPropertySymbols(value).length > 0) fail('meta keys must be strings');
  const out: EntryUserMeta = Object.create(null);
  const keys = Object.keys(value as object);
  // Each key takes at least 6 bytes of JSON ("k":0,): more keys than that cannot fit, refused unread.
  if (keys.length > MAX_META_BYTES / 6)
    fail(`meta has ${keys.length} keys; they cannot fit in ${MAX_META_BYTES} bytes`);
  for (const key of keys) {
    if (key.length === 0 || key.length > MAX_META_KEY_CHARS || key === '__proto__')
      fail(
        `meta key ${JSON.stringify(key.slice(0, 80))} must have 1 to ${MAX_META_KEY_CHARS} characters (not __proto__)`,
      );
    const v = (value as Record<string, unknown>)[key];
    const ok =
      v === null ||
      typeof v === 'string' ||
      typeof v === 'boolean' ||
      (typeof v === 'number' && Number.isFinite(v));
    if (!ok) fail(`meta.${key} must be a string, a finite number, a boolean or null`);
    out[key] = v as string | number | boolean | null;
  }
  if (keys.length === 0) return undefined;
  const bytes = new TextEncoder().encode(JSON.stringify(out)).length;
  if (bytes > MAX_META_BYTES) fail(`meta takes ${bytes} bytes as JSON; at most ${MAX_META_BYTES} are kept`);
  return { ...out };
}

/** UTF-8 JSON of checked metadata (what the entry codec stores). */
export function encodeUserMeta(meta: EntryUserMeta): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(meta));
}

/** The metadata in `bytes` (UTF-8 JSON); `fail` on bad UTF-8, bad JSON or anything checkUserMeta refuses. */
export function decodeUserMeta(bytes: Uint8Array, fail: (msg: string) => never): EntryUserMeta {
  if (bytes.length > MAX_META_BYTES)
    fail(`meta takes ${bytes.length} bytes; at most ${MAX_META_BYTES} are kept`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch {
    fail('meta is not valid UTF-8 JSON');
  }
  const meta = checkUserMeta(parsed, fail);
  if (meta === undefined) fail('meta section is empty');
  return meta as EntryUserMeta;
}
