// Tiled GEMM for many rows: y[r, outOffset + o] (+)= sum_k x[r, k] * W[o, k] (+ b[o])
// Workgroup 8x8 threads computes a 32x32 tile of y (4x4 per thread), K in steps of 16.
#include matmul_prelude
#include matmul_gemm_tile
@group(0) @binding(2) var<storage, read> x: array<f32>;        // [n, K]
@group(0) @binding(3) var<storage, read> w: array<f32>;        // [outRows, K]

// Bs = W[col0 .. col0 + TN, k0 .. k0 + TK], zeros past outRows and K: 8 values per thread.
fn loadWTile(col0: u32, k0: u32, tid: u32) {
  for (var i = 0u; i < 8u; i++) {
    let e = tid + i * 64u;
    let rr = e / TK;
    let kk = e % TK;
    var bv = 0.0;
    if (col0 + rr < p.outRows && k0 + kk < p.K) { bv = w[(col0 + rr) * p.K + k0 + kk]; }
    setB(rr, kk, bv);
  }
}
