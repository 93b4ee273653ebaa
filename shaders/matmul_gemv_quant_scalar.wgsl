// GEMV for few rows with group-quantized weights (quant_prelude), any K (a padded last group):
// y[r, o] (+)= sum_k x[r, k] * W[o, k]. (K % 32 == 0 takes matmul_gemv_quant.wgsl, vec4 loads.)
// TPO threads per output, each taking whole 32-value groups: codes widened in registers, per row
// dot(x, code) and sum(x) in f32, then scale * (dot - zero * sum) + min * sum. Codes are read once
// for up to ROWS rows; one barrier, then the first thread of each output sums the TPO partials.
#include matmul_prelude
#include quant_prelude

@group(0) @binding(2) var<storage, read> x: array<f32>; // [n, K]

override ROWS: u32 = 1;  // rows per workgroup, 1..4 (grid y = ceil(n / ROWS))
const TPO: u32 = 8u;     // threads per output
const WG: u32 = 256u;
const OUT_PER_WG: u32 = WG / TPO;
var<workgroup> partial: array<vec4<f32>, WG>; // [WG] partial sums of rows r0..r0+3

@compute @workgroup_size(WG)
fn gemv_scalar(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let r0 = wid.y * ROWS;
  if (r0 >= count.n) { return; }
  let o = wid.x * OUT_PER_WG + lid.x / TPO;
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
  partial[lid.x] = s;
  workgroupBarrier();
  if (t == 0u && o < p.outRows) {
    for (var j = 1u; j < TPO; j++) { s += partial[lid.x + j]; }
    for (var i = 0u; i < ROWS; i++) {
      if (r0 + i >= count.n) { break; }
      store(r0 + i, o, s[i]);
    }
  }
}
