// Decoding of group-quantized weights (#include quant_prelude; layout: WeightFormat in
// src/ops/weight-format.ts). For a part of `rows` x `cols` values, G = ceil(cols / 32) groups per row:
//   codes  [rows, G, BITS] u32: 32 codes per group (4-bit: code 8j + n in bits 4n of word j;
//          8-bit two's complement: code 4j + n in byte n of word j);
//   scales [rows * G] f16 two per u32, or f32 (SCALE32 = 1);  mins [rows * G] likewise (HAS_MIN = 1).
// value = scale * (code - zero) + min, zero = 8 for 4-bit codes without a min, else 0.
@group(0) @binding(3) var<storage, read> w: array<vec4<u32>>; // codes | scales | mins (see above)

override BITS: u32 = 4;     // bits per code: 4 or 8
override SCALE32: u32 = 0;  // 1: f32 scales and mins; 0: f16
override HAS_MIN: u32 = 0;  // 1: a per-group min

struct QLayout { groups: u32, scaleBase: u32, minBase: u32 }

fn qlayout(rows: u32, cols: u32) -> QLayout {
  let groups = (cols + 31u) / 32u;
  let n = rows * groups;
  let paramWords = select((n + 1u) / 2u, n, SCALE32 != 0u);
  let scaleBase = n * BITS;
  return QLayout(groups, scaleBase, scaleBase + paramWords);
}

fn qzero() -> f32 {
  if (BITS == 4u && HAS_MIN == 0u) { return 8.0; }
  return 0.0;
}

fn qword(i: u32) -> u32 { return w[i >> 2u][i & 3u]; }

fn qparam(base: u32, i: u32) -> f32 {
  if (SCALE32 != 0u) { return bitcast<f32>(qword(base + i)); }
  let v = unpack2x16float(qword(base + (i >> 1u)));
  return select(v.x, v.y, (i & 1u) == 1u);
}

// Scale and min of group gi (= row * G + group).
fn qscale(L: QLayout, gi: u32) -> f32 { return qparam(L.scaleBase, gi); }
fn qmin(L: QLayout, gi: u32) -> f32 {
  if (HAS_MIN == 0u) { return 0.0; }
  return qparam(L.minBase, gi);
}

// Code n (0 .. 32 / BITS - 1) of a code word as f32: 4-bit unsigned, 8-bit signed.
fn qcode(word: u32, n: u32) -> f32 {
  if (BITS == 8u) { return f32(extractBits(bitcast<i32>(word), 8u * n, 8u)); }
  return f32((word >> (4u * n)) & 15u);
}

// Value e (0..31) of group gi, dequantized.
fn qvalue(L: QLayout, gi: u32, e: u32) -> f32 {
  let per = 32u / BITS;
  let code = qcode(qword(gi * BITS + e / per), e % per);
  return qscale(L, gi) * (code - qzero()) + qmin(L, gi);
}

// Codes widened four at a time in registers (the vec4 GEMV and GEMM): 4-bit codes 0..3 of a code
// word, code j as code * 16^j (masked in place, no shift; exact in f32), whose place values a dot or
// a scale with NIBBLE_PLACES (16^-j, powers of two: exact) undoes; the four 8-bit codes of a word.
const NIBBLES = vec4<u32>(0xFu, 0xF0u, 0xF00u, 0xF000u);
const NIBBLE_PLACES = vec4<f32>(1.0, 1.0 / 16.0, 1.0 / 256.0, 1.0 / 4096.0);
fn nib4(word: u32) -> vec4<f32> { return vec4<f32>(bitcast<vec4<i32>>(vec4<u32>(word) & NIBBLES)); }
fn c8(word: u32) -> vec4<f32> {
  return vec4<f32>(bitcast<vec4<i32>>(vec4<u32>(word << 24u, word << 16u, word << 8u, word)) >> vec4<u32>(24u));
}
