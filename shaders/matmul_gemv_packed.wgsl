// GEMV for few rows with 16-bit weights (BF16 or F16) packed two per u32 along K, K % 8 == 0:
// y[r, outOffset + o] (+)= sum_k x[r, k] * W[o, k] (+ b[o]).
// TPO threads per output, each loading 8 weights (one vec4<u32>) per step and using them for up to
// ROWS rows (weights are read once for all rows of the workgroup); one barrier, then the first
// thread of each output sums the TPO partial sums in order. Weights are widened in registers:
// BF16 exactly by a shift, F16 exactly by unpack2x16float.
#include matmul_prelude
#include packed16_prelude
#include matmul_gemv_prelude
@group(0) @binding(2) var<storage, read> x: array<vec4<f32>>;  // [n, K/4]
@group(0) @binding(3) var<storage, read> w: array<vec4<u32>>;  // [outRows, K/8]: 8 packed values each

@compute @workgroup_size(WG)
fn gemv_vec8(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let r0 = wid.y * ROWS;
  if (r0 >= count.n) { return; }
  let o = wid.x * OUT_PER_WG + lid.x / TPO;
  let t = lid.x % TPO;
  let K8 = p.K / 8u;
  let K4 = p.K / 4u;
  var s = vec4<f32>(0.0);
  if (o < p.outRows) {
    for (var k = t; k < K8; k += TPO) {
      let wv = w[o * K8 + k];
      let lo = vec4<f32>(unpack2(wv.x), unpack2(wv.y));
      let hi = vec4<f32>(unpack2(wv.z), unpack2(wv.w));
      for (var i = 0u; i < ROWS; i++) {
        let xi = (r0 + i) * K4 + 2u * k;
        if (r0 + i < count.n) { s[i] += dot(x[xi], lo) + dot(x[xi + 1u], hi); }
      }
    }
  }
  gemvFinish(lid.x, o, r0, s);
}
