/** KVShare CPU side: cache entries, the in-memory cache, retrieval sketches and alignment. */
export {
  buildPatchPlan,
  emptyPlan,
  type PatchPlan,
  type PatchPlanOptions,
  type PatchSource,
  type PlanRun,
  planRuns,
  prefixPlan,
} from './align.ts';
export {
  diffSequences,
  diffTokens,
  type EditOp,
  lcsLength,
  lcsRuns,
  lcsRunsBounded,
  type MatchRun,
} from './diff.ts';
export {
  conformEntry,
  type EntryExpectation,
  entryBytes,
  entryMeta,
  type KVEntry,
  type KVEntryMeta,
  type MakeEntryInput,
  makeEntry,
  validateEntry,
} from './entry.ts';
export {
  f16ArrayToF32,
  f32ArrayToF16,
  KV_DTYPES,
  type KVArray,
  type KVDtype,
  kvConvert,
  kvToF32,
} from './kv-dtype.ts';
export {
  type AddResult,
  type MemoryCacheStats,
  MemoryKVCache,
  type MemoryKVCacheOptions,
} from './memory-cache.ts';
export {
  EMPTY_SLOT,
  estimateJaccard,
  minhashSignature,
  SketchIndex,
  type SketchIndexOptions,
  type SketchMatch,
  type SketchOptions,
  type SketchQueryOptions,
  tokenJaccard,
} from './sketch.ts';
