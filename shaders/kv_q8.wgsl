// kv_f32.wgsl's accessors for a q8 cache (q8_prelude.wgsl): element i lives in word
// (i / Q8_GROUP) * Q8_WORDS + (i % Q8_GROUP) / 4 as an int8 code (group 32, 9 words: (i / 32) * 9 +
// (i % 32) / 4; group 8, 3 words: (i / 8) * 3 + (i % 8) / 4), its group's f32 scale in the group's last
// word. The group divides headDim, so the four elements of a kv4 read share one group and one scale.
// kvElem gives the code, kvScale the scale; the value is their product.
#include q8_prelude
alias KVWord = u32;
alias KVWord4 = u32;
fn kvIndex(i: u32) -> u32 { return (i / Q8_GROUP) * Q8_WORDS + (i % Q8_GROUP) / 4u; }
fn kvElem(w: KVWord, i: u32) -> f32 { return q8CodeOf(w, i & 3u); }
fn kvScaleIndex(i: u32) -> u32 { return (i / Q8_GROUP) * Q8_WORDS + Q8_WORDS - 1u; }
fn kvScale(w: KVWord) -> f32 { return bitcast<f32>(w); }
fn kvIndex4(j: u32) -> u32 { return (j / (Q8_GROUP / 4u)) * Q8_WORDS + j % (Q8_GROUP / 4u); }
fn kv4(w: KVWord4) -> vec4<f32> { return q8Codes(w); }
fn kvScaleIndex4(j: u32) -> u32 { return (j / (Q8_GROUP / 4u)) * Q8_WORDS + Q8_WORDS - 1u; }
fn kvScale4(w: KVWord4) -> f32 { return bitcast<f32>(w); }
// Values per rounding group, and x as the cache stores it in a group whose largest magnitude is amax
const KV_GROUP: u32 = Q8_GROUP;
fn kvRound(x: f32, amax: f32) -> f32 {
  let s = q8Scale(amax);
  return q8Round(x, s, q8Inv(s));
}
