// Include slot `kv_f32`: how the kernels that read the KV cache see its storage (swapped for kv_f16 or
// kv_q8 by the dtype: src/ops/kv-format.ts). Element i of a cache buffer `c: array<KVWord>` is
// kvElem(c[kvIndex(i)], i) * kvScale(c[kvScaleIndex(i)]); the four elements 4j..4j+3 of
// `c4: array<KVWord4>` are kv4(c4[kvIndex4(j)]) * kvScale4(c4[kvScaleIndex4(j)]). Only q8 has scales
// (f32 / f16: 1, the scale load is dead code). f32 storage: one value per word. What a drop-in must
// keep: the aliases KVWord and KVWord4 (the element types the kernels declare their cache bindings
// with: 32-bit words, as the cache buffers hold), the functions below with these signatures and
// KV_GROUP; no bindings of its own.
alias KVWord = f32;
alias KVWord4 = vec4<f32>;
fn kvIndex(i: u32) -> u32 { return i; }
fn kvElem(w: KVWord, i: u32) -> f32 { return w; }
fn kvScaleIndex(i: u32) -> u32 { return 0u; }
fn kvScale(w: KVWord) -> f32 { return 1.0; }
fn kvIndex4(j: u32) -> u32 { return j; }
fn kv4(w: KVWord4) -> vec4<f32> { return w; }
fn kvScaleIndex4(j: u32) -> u32 { return 0u; }
fn kvScale4(w: KVWord4) -> f32 { return 1.0; }
// Values per rounding group, and x as the cache stores it in a group whose largest magnitude is amax
const KV_GROUP: u32 = 1u;
fn kvRound(x: f32, amax: f32) -> f32 { return x; }
