// GEMV for few rows with f32 weights, K % 4 == 0: y[r, outOffset + o] (+)= sum_k x[r, k] * W[o, k] (+ b[o]).
// W is one row-part of a [outTotal, K] weight, row-major ([outRows, K] here). Work split of
// matmul_gemv_prelude, one vec4 of K per step, reduced by gemvFinish. Two entry points, written
// out without loops over rows or outputs (software adapters do not unroll them, and indexing
// registers by a loop counter spills them to memory):
//   gemv_vec4      ROWS = 1, OPT = 4: one x load serves four weight rows;
//   gemv_vec4_rows ROWS = 4, OPT = 1: one weight load serves four rows of x.
#include matmul_prelude
#include matmul_gemv_prelude
@group(0) @binding(2) var<storage, read> x: array<vec4<f32>>;  // [n, K/4]
@group(0) @binding(3) var<storage, read> w: array<vec4<f32>>;  // [outRows, K/4]

@compute @workgroup_size(WG)
fn gemv_vec4(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let r = wid.y;
  if (r >= count.n) { return; }
  let o = gemvOutput(wid.x, lid.x);
  let K4 = p.K / 4u;
  let wb = gemvWeightBases(o, K4);
  var s = vec4<f32>(0.0); // outputs o .. o + 3
  if (o < p.outRows) {
    for (var k = lid.x % TPO; k < K4; k += TPO) {
      let xv = x[r * K4 + k];
      s += vec4<f32>(dot(xv, w[wb.x + k]), dot(xv, w[wb.y + k]), dot(xv, w[wb.z + k]), dot(xv, w[wb.w + k]));
    }
  }
  gemvFinish(lid.x, o, r, s);
}

@compute @workgroup_size(WG)
fn gemv_vec4_rows(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let r0 = wid.y * 4u;
  if (r0 >= count.n) { return; }
  let o = gemvOutput(wid.x, lid.x);
  let K4 = p.K / 4u;
  let xb = gemvRowBases(r0, K4);
  var s = vec4<f32>(0.0); // rows r0 .. r0 + 3
  if (o < p.outRows) {
    for (var k = lid.x % TPO; k < K4; k += TPO) {
      let wv = w[o * K4 + k];
      s += vec4<f32>(dot(x[xb.x + k], wv), dot(x[xb.y + k], wv), dot(x[xb.z + k], wv), dot(x[xb.w + k], wv));
    }
  }
  gemvFinish(lid.x, o, r0, s);
}
