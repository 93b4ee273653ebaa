// GEMV for few rows with group-quantized weights (quant_prelude), K % 32 == 0:
// y[r, o] (+)= sum_k x[r, k] * W[o, k]. Work split of matmul_gemv_prelude with OPT = 1, each
// thread taking whole 32-value groups: per row scale * dot(x, code - zero) (+ min * sum(x)), the
// codes widened in registers, x read as 8 vec4. Two entry points, written out without register
// arrays indexed by a loop counter (software adapters spill those to memory):
//   gemv      ROWS = 1;
//   gemv_rows ROWS = 4: the group's scale and min read once for four rows of x.
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

// (dot(x[xr .. xr + 8] (vec4s), codes of group gi minus the zero point), sum of those x).
fn groupDot(xr: u32, gi: u32) -> vec2<f32> {
  var dq: vec4<f32>;
  if (BITS == 4u) {
    let a = w[gi];
    dq = x[xr] * lo4(a.x) + x[xr + 1u] * hi4(a.x) + x[xr + 2u] * lo4(a.y) + x[xr + 3u] * hi4(a.y)
       + x[xr + 4u] * lo4(a.z) + x[xr + 5u] * hi4(a.z) + x[xr + 6u] * lo4(a.w) + x[xr + 7u] * hi4(a.w);
  } else {
    let a = w[2u * gi];
    let b = w[2u * gi + 1u];
    dq = x[xr] * c8(a.x) + x[xr + 1u] * c8(a.y) + x[xr + 2u] * c8(a.z) + x[xr + 3u] * c8(a.w)
       + x[xr + 4u] * c8(b.x) + x[xr + 5u] * c8(b.y) + x[xr + 6u] * c8(b.z) + x[xr + 7u] * c8(b.w);
  }
  var sx = 0.0;
  if (HAS_MIN != 0u) {
    let v = x[xr] + x[xr + 1u] + x[xr + 2u] + x[xr + 3u] + x[xr + 4u] + x[xr + 5u] + x[xr + 6u] + x[xr + 7u];
    sx = dot(v, vec4<f32>(1.0));
  }
  return vec2<f32>(dot(dq, vec4<f32>(1.0)), sx);
}

@compute @workgroup_size(WG)
fn gemv(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let r = wid.y;
  if (r >= count.n) { return; }
  let o = gemvOutput(wid.x, lid.x); // OPT = 1
  let L = qlayout(p.outRows, p.K);
  let K4 = p.K / 4u;
  var s = vec4<f32>(0.0); // s.x: row r
  if (o < p.outRows) {
    for (var grp = lid.x % TPO; grp < L.groups; grp += TPO) {
      let gi = o * L.groups + grp;
      let g = groupDot(r * K4 + grp * 8u, gi);
      s.x += qscale(L, gi) * g.x + qmin(L, gi) * g.y;
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
      let d = qscale(L, gi);
      let m = qmin(L, gi);
      let xg = grp * 8u;
      let g0 = groupDot(x0 + xg, gi);
      let g1 = groupDot(x1 + xg, gi);
      let g2 = groupDot(x2 + xg, gi);
      let g3 = groupDot(x3 + xg, gi);
      s += d * vec4<f32>(g0.x, g1.x, g2.x, g3.x) + m * vec4<f32>(g0.y, g1.y, g2.y, g3.y);
    }
  }
  gemvFinish(lid.x, o, r0, s);
}
