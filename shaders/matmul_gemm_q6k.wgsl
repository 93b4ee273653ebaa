// Tiled GEMM for many rows with Q6_K weights (q6k_prelude): y[r, o] (+)= sum_k x[r, k] * W[o, k].
// Tiles, loop order and f32 accumulation as matmul_gemm.wgsl (matmul_gemm_tile); the weight tile is
// dequantized into Bs as it is loaded (K % 256 == 0, so the tile never passes K).
#include matmul_prelude
#include matmul_gemm_tile
#include q6k_prelude

@group(0) @binding(2) var<storage, read> x: array<f32>; // [n, K]

// Bs = W[col0 .. col0 + TN, k0 .. k0 + TK] dequantized, zeros past outRows: 32 weight rows x TK
// values, 8 per thread.
fn loadWTile(col0: u32, k0: u32, tid: u32) {
  let L = q6layout(p.outRows, p.K);
  for (var i = 0u; i < 8u; i++) {
    let e = tid + i * 64u;
    let rr = e / TK;
    let o = col0 + rr;
    var v = 0.0;
    if (o < p.outRows) { v = q6value(L, o, k0 + e % TK); }
    setB(rr, e % TK, v);
  }
}
