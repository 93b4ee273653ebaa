// Decoding of GGUF Q6_K weights kept in their own layout (#include q6k_prelude; layout: 'q6k' in
// src/ops/weight-format.ts). For a part of `rows` x `cols` values, B = cols / 256 blocks per row,
// nb = rows * B, regions one after the other:
//   ql [nb, 32] u32, qh [nb, 16] u32 (low 4 / high 2 bits of the 6-bit codes, GGUF's bytes);
//   scales [nb, 4] u32 (16 int8, one per 16 values); d [nb] f32.
// Value e of block b: n = e >> 7, k = (e >> 5) & 3, l = e & 31; low bits: nibble k >> 1 of ql byte
// 64n + 32(k & 1) + l; high bits: bits 2k.. of qh byte 32n + l; value = (d * scale[e >> 4]) * (q - 32).
@group(0) @binding(3) var<storage, read> w: array<vec4<u32>>; // ql | qh | scales | d (see above)

struct Q6Layout { blocks: u32, qhBase: u32, scaleBase: u32, dBase: u32 }

fn q6layout(rows: u32, cols: u32) -> Q6Layout {
  let blocks = cols / 256u;
  let nb = rows * blocks;
  return Q6Layout(blocks, nb * 32u, nb * 48u, nb * 52u);
}

fn q6word(i: u32) -> u32 { return w[i >> 2u][i & 3u]; }

// Byte i (from the start of the buffer), unsigned.
fn q6byte(i: u32) -> u32 { return (q6word(i >> 2u) >> (8u * (i & 3u))) & 255u; }

// d * scale of the 16 values s (0..15) of block b: exact in f32.
fn q6scale(L: Q6Layout, b: u32, s: u32) -> f32 {
  let sc = extractBits(bitcast<i32>(q6word(L.scaleBase + b * 4u + s / 4u)), 8u * (s % 4u), 8u);
  return bitcast<f32>(q6word(L.dBase + b)) * f32(sc);
}

// Code (q - 32) of value e (0..255) of block b, as f32.
fn q6code(L: Q6Layout, b: u32, e: u32) -> f32 {
  let n = e >> 7u;
  let k = (e >> 5u) & 3u;
  let l = e & 31u;
  let lo = (q6byte(b * 128u + 64u * n + 32u * (k & 1u) + l) >> (4u * (k >> 1u))) & 15u;
  let hi = (q6byte(L.qhBase * 4u + b * 64u + 32u * n + l) >> (2u * k)) & 3u;
  return f32(lo | (hi << 4u)) - 32.0;
}

// Value k of row `row`, dequantized.
fn q6value(L: Q6Layout, row: u32, k: u32) -> f32 {
  let b = row * L.blocks + k / 256u;
  let e = k % 256u;
  return q6scale(L, b, e / 16u) * q6code(L, b, e);
}
