/** Persistent KV cache (IndexedDB via idb-keyval), its entry codec, and KV packs. */
export {
  crc32,
  decodeEntry,
  ENTRY_FORMAT_VERSION,
  encodedEntryLength,
  encodeEntry,
  storedChecksum,
} from './codec.ts';
export type { ChannelNotice } from './cross-tab.ts';
export { type PersistentCacheStats, PersistentKVCache, type PersistentKVCacheOptions } from './idb-store.ts';
export {
  DEFAULT_PACK_MAX_BYTES,
  DEFAULT_PACK_MAX_ENTRIES,
  decodePack,
  encodePack,
  exportPack,
  importPack,
  PACK_FORMAT_VERSION,
  PACK_MAGIC,
  type PackImportResult,
  type PackLimits,
} from './pack.ts';
export type { IndexRecord, StorageEstimateLike, StoreWarning } from './records.ts';
