// GEMV for few rows with group-quantized weights (quant_prelude), K % 32 == 0:
// y[r, o] (+)= sum_k x[r, k] * W[o, k]. Work split of matmul_gemv_prelude, each thread taking
// whole 32-value groups: per row scale * dot(x, code - zero) (+ min * sum(x)), the codes widened in
// registers, x read as 8 vec4. Two entry points, written out without register arrays indexed by a
// loop counter (software adapters spill those to memory):
//   gemv      ROWS = 1, OPT = 4: the group's 8 x loads (and sum) serve four weight rows;
//   gemv_rows ROWS = 4, OPT = 1: the group's scale and min read once for four rows of x.
#include matmul_prelude
#include matmul_gemv_prelude
#include quant_prelude

@group(0) @binding(2) var<storage, read> x: array<vec4<f32>>; // [n, K/4]

// 4-bit codes 0..3 (lo) and 4..7 (hi) of a code word, minus the zero point, as f32.
fn lo4(word: u32) -> vec4<f32> {
  return vec4<f32>(vec4<u32>(word, word >> 4u, word >> 8u, word >> 12u) & vec4<u32>(15u)) - qzero();
}
fn hi4(word: u32) -> vec4<f32> { return lo4(word >> 16u); }
// The four 8-bit (two's complement) codes of a word as f32.
fn c8(word: u32) -> vec4<f32> {
  return vec4<f32>(bitcast<vec4<i32>>(vec4<u32>(word << 24u, word << 16u, word << 8u, word)) >> vec4<u32>(24u));
}

// dot(x0 .. x7 (the group's 32 values of x), codes of group gi minus the zero point).
fn codesDot(gi: u32, x0: vec4<f32>, x1: vec4<f32>, x2: vec4<f32>, x3: vec4<f32>, x4: vec4<f32>, x5: vec4<f32>, x6: vec4<f32>, x7: vec4<f32>) -> f32 {
  var dq: vec4<f32>;
  if (BITS == 4u) {
    let a = w[gi];
    dq = x0 * lo4(a.x) + x1 * hi4(a.x) + x2 * lo4(a.y) + x3 * hi4(a.y) + x4 * lo4(a.z) + x5 * hi4(a.z) + x6 * lo4(a.w) + x7 * hi4(a.w);
  } else {
    let a = w[2u * gi];
    let b = w[2u * gi + 1u];
    dq = x0 * c8(a.x) + x1 * c8(a.y) + x2 * c8(a.z) + x3 * c8(a.w) + x4 * c8(b.x) + x5 * c8(b.y) + x6 * c8(b.z) + x7 * c8(b.w);
  }
  return dot(dq, vec4<f32>(1.0));
}

// scale * codesDot + min * sum(x) of group gi, for the group's x at vec4 index xr.
fn groupDot(L: QLayout, xr: u32, gi: u32) -> f32 {
  let x0 = x[xr];
  let x1 = x[xr + 1u];
  let x2 = x[xr + 2u];
  let x3 = x[xr + 3u];
  let x4 = x[xr + 4u];
  let x5 = x[xr + 5u];
  let x6 = x[xr + 6u];
  let x7 = x[xr + 7u];
  let c = codesDot(gi, x0, x1, x2, x3, x4, x5, x6, x7);
  if (HAS_MIN == 0u) { return qscale(L, gi) * c; }
  let sx = dot(x0 + x1 + x2 + x3 + x4 + x5 + x6 + x7, vec4<f32>(1.0));
  return qscale(L, gi) * c + qmin(L, gi) * sx;
}

@compute @workgroup_size(WG)
fn gemv(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let r = wid.y;
  if (r >= count.n) { return; }
  let o = gemvOutput(wid.x, lid.x);
  let L = qlayout(p.outRows, p.K);
  let K4 = p.K / 4u;
  // First group index of each of the thread's 4 weight rows (clamped past outRows).
  let g0 = gemvWeightRow(o, 0u) * L.groups;
  let g1 = gemvWeightRow(o, 1u) * L.groups;
  let g2 = gemvWeightRow(o, 2u) * L.groups;
  let g3 = gemvWeightRow(o, 3u) * L.groups;
  var s = vec4<f32>(0.0); // outputs o .. o + 3
  if (o < p.outRows) {
    for (var grp = lid.x % TPO; grp < L.groups; grp += TPO) {
      let xr = r * K4 + grp * 8u;
      let x0 = x[xr];
      let x1 = x[xr + 1u];
      let x2 = x[xr + 2u];
      let x3 = x[xr + 3u];
      let x4 = x[xr + 4u];
      let x5 = x[xr + 5u];
      let x6 = x[xr + 6u];
      let x7 = x[xr + 7u];
      let a = g0 + grp;
      let b = g1 + grp;
      let c = g2 + grp;
      let d = g3 + grp;
      let dots = vec4<f32>(
        codesDot(a, x0, x1, x2, x3, x4, x5, x6, x7),
        codesDot(b, x0, x1, x2, x3, x4, x5, x6, x7),
        codesDot(c, x0, x1, x2, x3, x4, x5, x6, x7),
        codesDot(d, x0, x1, x2, x3, x4, x5, x6, x7),
      );
      s += vec4<f32>(qscale(L, a), qscale(L, b), qscale(L, c), qscale(L, d)) * dots;
      if (HAS_MIN != 0u) {
        let sx = dot(x0 + x1 + x2 + x3 + x4 + x5 + x6 + x7, vec4<f32>(1.0));
        s += vec4<f32>(qmin(L, a), qmin(L, b), qmin(L, c), qmin(L, d)) * sx;
      }
    }
  }
  gemvFinish(lid.x, o, r, s);
}

@compute @workgroup_size(WG)
fn gemv_rows(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let r0 = wid.y * 4u;
  if (r0 >= count.n) { return; }
  let o = gemvOutput(wid.x, lid.x); // OPT = 1
  let L = qlayout(p.outRows, p.K);
  let K4 = p.K / 4u;
  let x0 = gemvRow(r0, 0u) * K4;
  let x1 = gemvRow(r0, 1u) * K4;
  let x2 = gemvRow(r0, 2u) * K4;
  let x3 = gemvRow(r0, 3u) * K4;
  var s = vec4<f32>(0.0); // rows r0 .. r0 + 3
  if (o < p.outRows) {
    for (var grp = lid.x % TPO; grp < L.groups; grp += TPO) {
      let gi = o * L.groups + grp;
      let xg = grp * 8u;
      s += vec4<f32>(groupDot(L, x0 + xg, gi), groupDot(L, x1 + xg, gi), groupDot(L, x2 + xg, gi), groupDot(L, x3 + xg, gi));
    }
  }
  gemvFinish(lid.x, o, r0, s);
}
