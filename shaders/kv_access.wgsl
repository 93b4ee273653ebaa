// Reads of the KV cache bindings `kc` and `vc` (array<KVWord4>, [ctx, nKvHeads * headDim] flat,
// declared by the including kernel) through kv_f32.wgsl's accessors: element i, and the four
// elements 4j .. 4j + 3 (one load of their codes and one of their scale; f16 and q8 caches always
// have headDim % 4 == 0). Buffers of a whole number of 16-byte words (the live cache's) are readable
// to their last element through these.
fn kAt(i: u32) -> f32 { return kv4(kc[kvIndex4(i / 4u)])[i % 4u] * kvScale4(kc[kvScaleIndex4(i / 4u)]); }
fn vAt(i: u32) -> f32 { return kv4(vc[kvIndex4(i / 4u)])[i % 4u] * kvScale4(vc[kvScaleIndex4(i / 4u)]); }
fn k4At(j: u32) -> vec4<f32> { return kv4(kc[kvIndex4(j)]) * kvScale4(kc[kvScaleIndex4(j)]); }
fn v4At(j: u32) -> vec4<f32> { return kv4(vc[kvIndex4(j)]) * kvScale4(vc[kvScaleIndex4(j)]); }
