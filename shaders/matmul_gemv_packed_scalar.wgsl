// GEMV for few rows with 16-bit weights packed two per u32 along K, any K (odd K: each row is padded
// to an even count with a zero high half): y[r, outOffset + o] (+)= sum_k x[r, k] * W[o, k] (+ b[o]).
// Same work split as matmul_gemv_packed.wgsl, one packed word (2 values of K) per step.
#include matmul_prelude
#include packed16_prelude
#include matmul_gemv_prelude
@group(0) @binding(2) var<storage, read> x: array<f32>;        // [n, K]
@group(0) @binding(3) var<storage, read> w: array<u32>;        // [outRows, ceil(K/2)]

@compute @workgroup_size(WG)
fn gemv_scalar(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let r0 = wid.y * ROWS;
  if (r0 >= count.n) { return; }
  let o = gemvOutput(wid.x, lid.x); // OPT = 1
  let t = lid.x % TPO;
  let K2 = (p.K + 1u) / 2u;
  var s = vec4<f32>(0.0);
  if (o < p.outRows) {
    for (var j = t; j < K2; j += TPO) {
      let wv = unpack2(w[o * K2 + j]);
      let k = 2u * j;
      for (var i = 0u; i < ROWS; i++) {
        let xi = (r0 + i) * p.K + k;
        if (r0 + i < count.n) {
          s[i] += x[xi] * wv.x;
          if (k + 1u < p.K) { s[i] += x[xi + 1u] * wv.y; }
        }
      }
    }
  }
  gemvFinish(lid.x, o, r0, s);
}
