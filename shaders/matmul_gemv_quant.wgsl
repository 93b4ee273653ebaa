// GEMV for few rows with group-quantized weights (quant_prelude), K % 32 == 0:
// y[r, o] (+)= sum_k x[r, k] * W[o, k]. TPO threads per output, each taking whole 32-value groups:
// the group's codes widened to 8 vec4<f32> in registers (zero point subtracted), then per row
// scale * dot(x, code) (+ min * sum(x)) from vec4 loads of x. Codes are read once for up to ROWS rows,
// then summed by gemvFinish.
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

@compute @workgroup_size(WG)
fn gemv(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let r0 = wid.y * ROWS;
  if (r0 >= count.n) { return; }
  let o = gemvOutput(wid.x, lid.x); // OPT = 1
  let t = lid.x % TPO;
  let L = qlayout(p.outRows, p.K);
  let K4 = p.K / 4u;
  var s = vec4<f32>(0.0);
  if (o < p.outRows) {
    for (var grp = t; grp < L.groups; grp += TPO) {
      let gi = o * L.groups + grp;
      // The group's 32 codes (minus the zero point) as 8 vec4<f32>.
      var c: array<vec4<f32>, 8>;
      if (BITS == 4u) {
        let wv = w[gi];
        c = array<vec4<f32>, 8>(lo4(wv.x), hi4(wv.x), lo4(wv.y), hi4(wv.y), lo4(wv.z), hi4(wv.z), lo4(wv.w), hi4(wv.w));
      } else {
        let wa = w[2u * gi];
        let wb = w[2u * gi + 1u];
        c = array<vec4<f32>, 8>(c8(wa.x), c8(wa.y), c8(wa.z), c8(wa.w), c8(wb.x), c8(wb.y), c8(wb.z), c8(wb.w));
      }
      let d = qscale(L, gi);
      let m = qmin(L, gi);
      for (var i = 0u; i < ROWS; i++) {
        if (r0 + i >= count.n) { break; }
        let xr = (r0 + i) * K4 + grp * 8u; // vec4 index of the group's x
        var dq = vec4<f32>(0.0);
        var sx = vec4<f32>(0.0);
        for (var j = 0u; j < 8u; j++) {
          let xv = x[xr + j];
          dq += xv * c[j];
          if (HAS_MIN != 0u) { sx += xv; }
        }
        s[i] += d * dot(dq, vec4<f32>(1.0)) + m * dot(sx, vec4<f32>(1.0));
      }
    }
  }
  gemvFinish(lid.x, o, r0, s);
}
