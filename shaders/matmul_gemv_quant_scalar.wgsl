// GEMV for few rows with group-quantized weights (quant_prelude), any K (a padded last group):
// y[r, o] (+)= sum_k x[r, k] * W[o, k]. (K % 32 == 0 takes matmul_gemv_quant.wgsl, vec4 loads.)
// TPO threads per output, each taking whole 32-value groups: codes widened in registers, per row
// dot(x, code) and sum(x) in f32, then scale * (dot - zero * sum) + min * sum. Codes are read once
// for up to ROWS rows, then summed by gemvFinish.
#include matmul_prelude
#include matmul_gemv_prelude
#include quant_prelude

@group(0) @binding(2) var<storage, read> x: array<f32>; // [n, K]

@compute @workgroup_size(WG)
fn gemv_scalar(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let r0 = wid.y * ROWS;
  if (r0 >= count.n) { return; }
  let o = gemvOutput(wid.x, lid.x); // OPT = 1
  let t = lid.x % TPO;
  let L = qlayout(p.outRows, p.K);
  let per = 32u / BITS; // codes per word
  var s = vec4<f32>(0.0);
  if (o < p.outRows) {
    for (var grp = t; grp < L.groups; grp += TPO) {
      let gi = o * L.groups + grp;
      var dq = vec4<f32>(0.0);
      var sx = vec4<f32>(0.0);
      for (var v = 0u; v < BITS / 4u; v++) {
        let wv = w[gi * (BITS / 4u) + v]; // 4 code words
        for (var c = 0u; c < 4u; c++) {
          let k0 = grp * 32u + (v * 4u + c) * per;
          for (var n = 0u; n < per; n++) {
            let k = k0 + n;
            if (k >= p.K) { break; }
            let code = qcode(wv[c], n);
            for (var i = 0u; i < ROWS; i++) {
              if (r0 + i < count.n) {
                let xv = x[(r0 + i) * p.K + k];
                dq[i] += xv * code;
                sx[i] += xv;
              }
            }
          }
        }
      }
      s += qscale(L, gi) * (dq - qzero() * sx) + qmin(L, gi) * sx;
    }
  }
  gemvFinish(lid.x, o, r0, s);
}
