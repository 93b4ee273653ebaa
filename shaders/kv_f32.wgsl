// How the kernels that read the KV cache see its storage (#include kv_f32; swapped for kv_f16 on an
// f16 cache): element i of a cache buffer `c: array<KVWord>` is kvElem(c[kvIndex(i)], i); four
// elements 4j..4j+3 of `c4: array<KVWord4>` are kv4(c4[j]). f32 storage: one value per word.
alias KVWord = f32;
alias KVWord4 = vec4<f32>;
fn kvIndex(i: u32) -> u32 { return i; }
fn kvElem(w: KVWord, i: u32) -> f32 { return w; }
fn kv4(w: KVWord4) -> vec4<f32> { return w; }
// x as the cache stores it
fn kvRound(x: f32) -> f32 { return x; }
