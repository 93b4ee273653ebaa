// GEMV for few rows with 16-bit weights (BF16 or F16) packed two per u32 along K, K % 8 == 0:
// y[r, outOffset + o] (+)= sum_k x[r, k] * W[o, k] (+ b[o]).
// Work split of matmul_gemv_prelude, 8 values of K per step (one vec4<u32> of weights, widened in
// registers: BF16 exactly by a shift, F16 exactly by unpack2x16float), reduced by gemvFinish; x comes
// through x8 (matmul_x, or its subgroup drop-in). Every thread runs the K loop (rows past the end
// are clamped, never stored), as the subgroup drop-in needs. Two entry points, written out as in
// matmul_gemv.wgsl:
//   gemv_vec8      ROWS = 1, OPT = 4: one x load serves four weight rows;
//   gemv_vec8_rows ROWS = 4, OPT = 1: one weight load serves four rows of x.
#include matmul_prelude
#include packed16_prelude
#include matmul_gemv_prelude
#include matmul_x
@group(0) @binding(3) var<storage, read> w: array<vec4<u32>>;  // [outRows, K/8]: 8 packed values each

// dot((lo, hi) (8 values of x), the 8 values packed in wv)
fn dotW(lo: vec4<f32>, hi: vec4<f32>, wv: vec4<u32>) -> f32 {
  return dot(lo, vec4<f32>(unpack2(wv.x), unpack2(wv.y))) + dot(hi, vec4<f32>(unpack2(wv.z), unpack2(wv.w)));
}
// dot(the 8 values xv, the 8 values packed in wv)
fn dot8(xv: X8, wv: vec4<u32>) -> f32 { return dotW(xv.lo, xv.hi, wv); }

@compute @workgroup_size(WG)
fn gemv_vec8(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let r = wid.y;
  if (r >= count.n) { return; }
  let o = gemvOutput(wid.x, lid.x);
  let K8 = p.K / 8u;
  let wb = gemvWeightBases(o, K8);
  var s = vec4<f32>(0.0); // outputs o .. o + 3
  for (var k = lid.x % TPO; k < K8; k += TPO) {
    let xv = x8(r * p.K + 8u * k, lid.x);
    s += vec4<f32>(dot8(xv, w[wb.x + k]), dot8(xv, w[wb.y + k]), dot8(xv, w[wb.z + k]), dot8(xv, w[wb.w + k]));
  }
  gemvFinish(lid.x, o, r, s);
}

@compute @workgroup_size(WG)
fn gemv_vec8_rows(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let r0 = wid.y * 4u;
  if (r0 >= count.n) { return; }
  let o = gemvOutput(wid.x, lid.x);
  let K8 = p.K / 8u;
  let xb = gemvRowBases(r0, p.K);
  let wb = gemvWeightBases(o, K8).x;
  var s = vec4<f32>(0.0); // rows r0 .. r0 + 3
  for (var k = lid.x % TPO; k < K8; k += TPO) {
    let wv = w[wb + k];
    let e = 8u * k;
    s += vec4<f32>(dot8(x8(xb.x + e, lid.x), wv), dot8(x8(xb.y + e, lid.x), wv), dot8(x8(xb.z + e, lid.x), wv), dot8(x8(xb.w + e, lid.x), wv));
  }
  gemvFinish(lid.x, o, r0, s);
}
