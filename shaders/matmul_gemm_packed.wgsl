// Tiled GEMM for many rows with 16-bit weights (BF16 or F16) packed two per u32 along K:
// y[r, outOffset + o] (+)= sum_k x[r, k] * W[o, k] (+ b[o]).
// Tiles, loop order and f32 accumulation as matmul_gemm.wgsl (8x8 threads, 32x32 tile of y, K in
// steps of 16); only the weight tile load differs: 8 packed words per tile row, widened into Bs.
#include matmul_prelude
#include packed16_prelude
#include matmul_gemm_tile
@group(0) @binding(2) var<storage, read> x: array<f32>;        // [n, K]
@group(0) @binding(3) var<storage, read> w: array<u32>;        // [outRows, ceil(K/2)]

// Bs = W[col0 .. col0 + TN, k0 .. k0 + TK], zeros past outRows and K: 32 weight rows x 8 words,
// 4 words per thread; a padded odd-K word has a zero high half.
fn loadWTile(col0: u32, k0: u32, tid: u32) {
  let K2 = (p.K + 1u) / 2u;
  for (var i = 0u; i < 4u; i++) {
    let e = tid + i * 64u;
    let rr = e / (TK / 2u);
    let kw = e % (TK / 2u);
    var bv = vec2<f32>(0.0);
    if (col0 + rr < p.outRows && k0 + 2u * kw < p.K) {
      bv = unpack2(w[(col0 + rr) * K2 + k0 / 2u + kw]);
    }
    setB(rr, 2u * kw, bv.x);
    setB(rr, 2u * kw + 1u, bv.y);
  }
}
