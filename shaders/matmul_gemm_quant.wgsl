// Tiled GEMM for many rows with group-quantized weights (quant_prelude):
// y[r, o] (+)= sum_k x[r, k] * W[o, k]. Tiles, loop order and f32 accumulation as matmul_gemm.wgsl
// (8x8 threads, 32x32 tile of y, K in steps of 16 = half a group); the weight tile is dequantized
// into Bs as it is loaded (BITS / 2 code words per tile row).
#include matmul_prelude
#include matmul_gemm_tile
#include quant_prelude

@group(0) @binding(2) var<storage, read> x: array<f32>; // [n, K]

// Bs = W[col0 .. col0 + TN, k0 .. k0 + TK] dequantized, zeros past outRows: 32 weight rows x wpr
// code words; values past K multiply zeros in As.
fn loadWTile(col0: u32, k0: u32, tid: u32) {
  let L = qlayout(p.outRows, p.K);
  let per = 32u / BITS;  // codes per word
  let wpr = TK / per;    // code words per tile row: 2 (4-bit) or 4 (8-bit)
  for (var i = 0u; i < wpr / 2u; i++) {
    let e = tid + i * 64u;
    let rr = e / wpr;
    let kw = e % wpr;
    let o = col0 + rr;
    if (o < p.outRows) {
      let gi = o * L.groups + k0 / 32u;
      let word = qword(gi * BITS + ((k0 % 32u) / per) + kw);
      let d = qscale(L, gi);
      let m = qmin(L, gi);
      for (var n = 0u; n < per; n++) { setB(rr, kw * per + n, d * (qcode(word, n) - qzero()) + m); }
    } else {
      for (var n = 0u; n < per; n++) { setB(rr, kw * per + n, 0.0); }
    }
  }
}
