// GEMV for few rows with group-quantized weights (quant_prelude), K % 32 == 0:
// y[r, o] (+)= sum_k x[r, k] * W[o, k]. Work split of matmul_gemv_prelude, each thread taking
// whole 32-value groups: per row scale * (dot(x, code) - zero * sum(x)) (+ min * sum(x)), the codes
// widened in registers (4-bit: masked in place and converted, no shifts, no per-value subtract),
// x read through x32 (matmul_x, or its subgroup drop-in; every thread runs the group loop,
// rows past the end clamped and never stored). Two entry points, written out without register arrays indexed by a loop
// counter (software adapters spill those to memory):
//   gemv      ROWS = 1, OPT = 4: the group's 8 x loads (and sum) serve four weight rows;
//   gemv_rows ROWS = 4, OPT = 1: each weight group serves four rows of x.
#include matmul_prelude
#include matmul_gemv_prelude
#include quant_prelude
#include matmul_x
#include matmul_x_group

// sum of the group's x (for the zero point and the per-group min).
fn xSum(v: XGroup) -> f32 { return dot(v.a + v.b + v.c + v.d + v.e + v.f + v.g + v.h, vec4<f32>(1.0)); }

// dot(the group's x, the codes of group gi) (the zero point not subtracted).
fn codesDot(gi: u32, v: XGroup) -> f32 {
  if (BITS == 4u) {
    let a = w[gi];
    let dq = v.a * nib4(a.x) + v.b * nib4(a.x >> 16u) + v.c * nib4(a.y) + v.d * nib4(a.y >> 16u) + v.e * nib4(a.z) + v.f * nib4(a.z >> 16u) + v.g * nib4(a.w) + v.h * nib4(a.w >> 16u);
    return dot(dq, NIBBLE_PLACES);
  }
  let a = w[2u * gi];
  let b = w[2u * gi + 1u];
  let dq = v.a * c8(a.x) + v.b * c8(a.y) + v.c * c8(a.z) + v.d * c8(a.w) + v.e * c8(b.x) + v.f * c8(b.y) + v.g * c8(b.z) + v.h * c8(b.w);
  return dot(dq, vec4<f32>(1.0));
}

// sum(x) of the group when the zero point or a min needs it, else 0.
fn xSumIfUsed(v: XGroup) -> f32 {
  if (qzero() == 0.0 && HAS_MIN == 0u) { return 0.0; }
  return xSum(v);
}

// scale * (codesDot - zero * sum(x)) (+ min * sum(x)) of group gi, for the group's x v.
fn groupDot(L: QLayout, v: XGroup, gi: u32) -> f32 {
  let xs = xSumIfUsed(v);
  let c = qscale(L, gi) * (codesDot(gi, v) - qzero() * xs);
  if (HAS_MIN == 0u) { return c; }
  return c + qmin(L, gi) * xs;
}

@compute @workgroup_size(WG)
fn gemv(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let r = wid.y;
  if (r >= count.n) { return; }
  let o = gemvOutput(wid.x, lid.x);
  let L = qlayout(p.outRows, p.K);
  let gb = gemvWeightBases(o, L.groups); // first group of each of the thread's 4 weight rows
  var s = vec4<f32>(0.0); // outputs o .. o + 3
  for (var grp = lid.x % TPO; grp < L.groups; grp += TPO) {
    let v = x32(r * p.K + grp * 32u, lid.x);
    let xs = xSumIfUsed(v); // once for the four weight rows
    let gi = gb + vec4<u32>(grp);
    let d = vec4<f32>(qscale(L, gi.x), qscale(L, gi.y), qscale(L, gi.z), qscale(L, gi.w));
    s += d * (vec4<f32>(codesDot(gi.x, v), codesDot(gi.y, v), codesDot(gi.z, v), codesDot(gi.w, v)) - qzero() * xs);
    if (HAS_MIN != 0u) { s += vec4<f32>(qmin(L, gi.x), qmin(L, gi.y), qmin(L, gi.z), qmin(L, gi.w)) * xs; }
  }
  gemvFinish(lid.x, o, r, s);
}

@compute @workgroup_size(WG)
fn gemv_rows(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let r0 = wid.y * 4u;
  if (r0 >= count.n) { return; }
  let o = gemvOutput(wid.x, lid.x); // OPT = 1
  let L = qlayout(p.outRows, p.K);
  let xb = gemvRowBases(r0, p.K);
  let gb = gemvWeightBases(o, L.groups).x;
  var s = vec4<f32>(0.0); // rows r0 .. r0 + 3
  for (var grp = lid.x % TPO; grp < L.groups; grp += TPO) {
    let gi = gb + grp;
    let e = grp * 32u;
    s += vec4<f32>(groupDot(L, x32(xb.x + e, lid.x), gi), groupDot(L, x32(xb.y + e, lid.x), gi), groupDot(L, x32(xb.z + e, lid.x), gi), groupDot(L, x32(xb.w + e, lid.x), gi));
  }
  gemvFinish(lid.x, o, r0, s);
}
