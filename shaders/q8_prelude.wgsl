// The q8 K/V storage (src/util/kv-q8.ts): each group of Q8_GROUP consecutive values of a row is
// Q8_WORDS u32 words: Q8_GROUP / 4 words of int8 codes (code t of the group in byte t & 3 of word
// t >> 2), then the f32 scale's bits; value = code * scale, scale = max |x| / 127, code =
// round(x * (1 / scale)) clamped to +-127. The writers (rope_kv8, scatter8, patch_rows8), the deviation
// kernel and the readers (kv_q8.wgsl) share these.
// Q8_GROUP is the model's group (q8GroupFor(headDim): a multiple of 4, <= 32, dividing headDim), which
// the pipeline cache writes over this default for every q8 kernel (src/ops/kv-format.ts, kvShader); a
// const, not an override, as it sizes the writers' private arrays. The default serves only the f32 and
// f16 entry points of the files that include this prelude, which never use it.
const Q8_GROUP: u32 = 32u;
const Q8_WORDS: u32 = Q8_GROUP / 4u + 1u;

fn q8Scale(amax: f32) -> f32 { return amax / 127.0; }

fn q8Inv(s: f32) -> f32 { return select(0.0, 1.0 / s, s > 0.0); }

fn q8Code(x: f32, inv: f32) -> i32 { return i32(clamp(round(x * inv), -127.0, 127.0)); }

// The stored value of x in a group of scale s (inv = q8Inv(s))
fn q8Round(x: f32, s: f32, inv: f32) -> f32 { return f32(q8Code(x, inv)) * s; }

// Codes of x[4w .. 4w + 3] of a group (w < Q8_WORDS - 1), packed into one word
fn q8Word(x: ptr<function, array<f32, Q8_GROUP>>, w: u32, inv: f32) -> u32 {
  var word = 0u;
  for (var b = 0u; b < 4u; b++) { word |= (u32(q8Code((*x)[4u * w + b], inv)) & 0xffu) << (8u * b); }
  return word;
}

// The four codes of a word, widened (sign-extended)
fn q8Codes(w: u32) -> vec4<f32> {
  let s = bitcast<i32>(w);
  return vec4<f32>(vec4<i32>(s << 24u, s << 16u, s << 8u, s) >> vec4<u32>(24u));
}

// Code b (0..3) of a word, widened
fn q8CodeOf(w: u32, b: u32) -> f32 { return f32((bitcast<i32>(w) << (24u - 8u * b)) >> 24u); }
