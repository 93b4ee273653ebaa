// Tiled GEMM for many rows: y[r, outOffset + o] (+)= sum_k x[r, k] * W[o, k] (+ b[o])
// Workgroup 8x8 threads computes a 32x32 tile of y (4x4 per thread), K in steps of 16.
#include matmul_prelude
#include matmul_gemm_tile
@group(0) @binding(2) var<storage, read> x: array<f32>;        // [n, K]
@group(0) @binding(3) var<storage, read> w: array<f32>;        // [outRows, K]

@compute @workgroup_size(8, 8)
fn gemm(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let row0 = wid.y * TM;
  let col0 = wid.x * TN;
  let tid = lid.y * 8u + lid.x;
  var acc: mat4x4<f32>;
  for (var k0 = 0u; k0 < p.K; k0 += TK) {
    loadXTile(row0, k0, tid);
    for (var i = 0u; i < 8u; i++) {
      let e = tid + i * 64u;
      let rr = e / TK;
      let kk = e % TK;
      var bv = 0.0;
      if (col0 + rr < p.outRows && k0 + kk < p.K) { bv = w[(col0 + rr) * p.K + k0 + kk]; }
      setB(rr, kk, bv);
    }
    workgroupBarrier();
    tileMac(&acc, lid);
    workgroupBarrier();
  }
  storeTile(&acc, row0, col0, lid);
}
