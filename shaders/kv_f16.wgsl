// kv_f32.wgsl's accessors for an f16 cache: IEEE halves packed two per u32 (element 2j in the low
// half of word j, as pack2x16float), widened to f32 by unpack2x16float (core WGSL, no feature).
alias KVWord = u32;
alias KVWord4 = vec2<u32>;
fn kvIndex(i: u32) -> u32 { return i >> 1u; }
fn kvElem(w: KVWord, i: u32) -> f32 { return unpack2x16float(w)[i & 1u]; }
fn kvScaleIndex(i: u32) -> u32 { return 0u; }
fn kvScale(w: KVWord) -> f32 { return 1.0; }
fn kvIndex4(j: u32) -> u32 { return j; }
fn kv4(w: KVWord4) -> vec4<f32> { return vec4<f32>(unpack2x16float(w.x), unpack2x16float(w.y)); }
fn kvScaleIndex4(j: u32) -> u32 { return 0u; }
fn kvScale4(w: KVWord4) -> f32 { return 1.0; }
// Values per rounding group, and x as the cache stores it (rounded to the nearest half)
const KV_GROUP: u32 = 1u;
fn kvRound(x: f32, amax: f32) -> f32 { return quantizeToF16(x); }
