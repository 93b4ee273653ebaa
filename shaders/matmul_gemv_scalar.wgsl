// GEMV for few rows with f32 weights when K is not a multiple of 4 (scalar loads):
// y[r, outOffset + o] (+)= sum_k x[r, k] * W[o, k] (+ b[o]); same work split as matmul_gemv.wgsl.
#include matmul_prelude
#include matmul_gemv_prelude
@group(0) @binding(2) var<storage, read> x: array<f32>;        // [n, K]
@group(0) @binding(3) var<storage, read> w: array<f32>;        // [outRows, K]

@compute @workgroup_size(WG)
fn gemv_scalar(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let r0 = wid.y * ROWS;
  if (r0 >= count.n) { return; }
  let o = gemvOutput(wid.x, lid.x); // OPT = 1
  let t = lid.x % TPO;
  var s = vec4<f32>(0.0);
  if (o < p.outRows) {
    for (var k = t; k < p.K; k += TPO) {
      let wv = w[o * p.K + k];
      for (var i = 0u; i < ROWS; i++) {
        if (r0 + i < count.n) { s[i] += x[(r0 + i) * p.K + k] * wv; }
      }
    }
  }
  gemvFinish(lid.x, o, r0, s);
}
