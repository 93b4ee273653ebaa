// Include slot `kv_f32`: how the kernels that read the KV cache see its storage (swapped for kv_f16 on
// an f16 cache: src/ops/kv-format.ts): element i of a cache buffer `c: array<KVWord>` is
// kvElem(c[kvIndex(i)], i); four elements 4j..4j+3 of `c4: array<KVWord4>` are kv4(c4[j]). f32
// storage: one value per word. What a drop-in must keep: the aliases KVWord and KVWord4 (the element
// types the kernels declare their cache bindings with: 32-bit words, as the cache buffers hold) and
// kvIndex, kvElem, kv4, kvRound with these signatures; no bindings of its own.
alias KVWord = f32;
alias KVWord4 = vec4<f32>;
fn kvIndex(i: u32) -> u32 { return i; }
fn kvElem(w: KVWord, i: u32) -> f32 { return w; }
fn kv4(w: KVWord4) -> vec4<f32> { return w; }
// x as the cache stores it
fn kvRound(x: f32) -> f32 { return x; }
