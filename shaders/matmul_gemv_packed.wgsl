// GEMV for few rows with 16-bit weights (BF16 or F16) packed two per u32 along K, K % 8 == 0:
// y[r, outOffset + o] (+)= sum_k x[r, k] * W[o, k] (+ b[o]).
// Work split of matmul_gemv_prelude, 8 values of K per step (one vec4<u32> of weights, widened in
// registers: BF16 exactly by a shift, F16 exactly by unpack2x16float), reduced by gemvFinish. Two
// entry points, written out as in matmul_gemv.wgsl:
//   gemv_vec8      ROWS = 1, OPT = 4: one x load serves four weight rows;
//   gemv_vec8_rows ROWS = 4, OPT = 1: one weight load serves four rows of x.
#include matmul_prelude
#include packed16_prelude
#include matmul_gemv_prelude
@group(0) @binding(2) var<storage, read> x: array<vec4<f32>>;  // [n, K/4]
@group(0) @binding(3) var<storage, read> w: array<vec4<u32>>;  // [outRows, K/8]: 8 packed values each

// dot(x[i .. i + 8], the 8 values packed in wv)
fn dot8(i: u32, wv: vec4<u32>) -> f32 {
  return dot(x[i], vec4<f32>(unpack2(wv.x), unpack2(wv.y))) + dot(x[i + 1u], vec4<f32>(unpack2(wv.z), unpack2(wv.w)));
}

@compute @workgroup_size(WG)
fn gemv_vec8(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let r = wid.y;
  if (r >= count.n) { return; }
  let o = gemvOutput(wid.x, lid.x);
  let K8 = p.K / 8u;
  let w0 = gemvWeightRow(o, 0u) * K8;
  let w1 = gemvWeightRow(o, 1u) * K8;
  let w2 = gemvWeightRow(o, 2u) * K8;
  let w3 = gemvWeightRow(o, 3u) * K8;
  var s = vec4<f32>(0.0); // outputs o .. o + 3
  if (o < p.outRows) {
    for (var k = lid.x % TPO; k < K8; k += TPO) {
      let xi = r * K8 * 2u + 2u * k;
      let lo = x[xi];
      let hi = x[xi + 1u];
      let a = w[w0 + k];
      let b = w[w1 + k];
      let c = w[w2 + k];
      let d = w[w3 + k];
      s += vec4<f32>(
        dot(lo, vec4<f32>(unpack2(a.x), unpack2(a.y))) + dot(hi, vec4<f32>(unpack2(a.z), unpack2(a.w))),
        dot(lo, vec4<f32>(unpack2(b.x), unpack2(b.y))) + dot(hi, vec4<f32>(unpack2(b.z), unpack2(b.w))),
        dot(lo, vec4<f32>(unpack2(c.x), unpack2(c.y))) + dot(hi, vec4<f32>(unpack2(c.z), unpack2(c.w))),
        dot(lo, vec4<f32>(unpack2(d.x), unpack2(d.y))) + dot(hi, vec4<f32>(unpack2(d.z), unpack2(d.w))),
      );
    }
  }
  gemvFinish(lid.x, o, r, s);
}

@compute @workgroup_size(WG)
fn gemv_vec8_rows(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let r0 = wid.y * 4u;
  if (r0 >= count.n) { return; }
  let o = gemvOutput(wid.x, lid.x);
  let K8 = p.K / 8u;
  let x0 = gemvRow(r0, 0u) * K8 * 2u;
  let x1 = gemvRow(r0, 1u) * K8 * 2u;
  let x2 = gemvRow(r0, 2u) * K8 * 2u;
  let x3 = gemvRow(r0, 3u) * K8 * 2u;
  var s = vec4<f32>(0.0); // rows r0 .. r0 + 3
  if (o < p.outRows) {
    for (var k = lid.x % TPO; k < K8; k += TPO) {
      let wv = w[o * K8 + k];
      s += vec4<f32>(dot8(x0 + 2u * k, wv), dot8(x1 + 2u * k, wv), dot8(x2 + 2u * k, wv), dot8(x3 + 2u * k, wv));
    }
  }
  gemvFinish(lid.x, o, r0, s);
}
