// Tiled GEMM for many rows with Q6_K weights (q6k_prelude): y[r, o] (+)= sum_k x[r, k] * W[o, k].
// Tiles, loop order and f32 accumulation as matmul_gemm.wgsl (matmul_gemm_tile); the weight tile is
// dequantized into Bs as it is loaded (K % 256 == 0, so the tile never passes K).
#include matmul_prelude
#include matmul_gemm_tile
#include q6k_prelude

@group(0) @binding(2) var<storage, read> x: array<f32>; // [n, K]

@compute @workgroup_size(8, 8)
fn gemm(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let row0 = wid.y * TM;
  let col0 = wid.x * TN;
  let tid = lid.y * 8u + lid.x;
  let L = q6layout(p.outRows, p.K);
  var acc: mat4x4<f32>;
  for (var k0 = 0u; k0 < p.K; k0 += TK) {
    loadXTile(row0, k0, tid);
    // 32 weight rows x TK values: 8 per thread.
    for (var i = 0u; i < 8u; i++) {
      let e = tid + i * 64u;
      let rr = e / TK;
      let o = col0 + rr;
      var v = 0.0;
      if (o < p.outRows) { v = q6value(L, o, k0 + e % TK); }
      setB(rr, e % TK, v);
    }
    workgroupBarrier();
    tileMac(&acc, lid);
    workgroupBarrier();
  }
  storeTile(&acc, row0, col0, lid);
}
