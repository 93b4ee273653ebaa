// Tiled GEMM for many rows with group-quantized weights (quant_prelude):
// y[r, o] (+)= sum_k x[r, k] * W[o, k]. Tiles, loop order and f32 accumulation as matmul_gemm.wgsl
// (8x8 threads, 32x32 tile of y, K in steps of 16 = half a group); the weight tile is dequantized
// into Bs as it is loaded (BITS / 2 code words per tile row).
#include matmul_prelude
#include quant_prelude

@group(0) @binding(2) var<storage, read> x: array<f32>; // [n, K]

const TM: u32 = 32u;
const TN: u32 = 32u;
const TK: u32 = 16u;
var<workgroup> As: array<f32, 512>; // [TM, TK]
var<workgroup> Bs: array<f32, 512>; // [TN, TK]

@compute @workgroup_size(8, 8)
fn gemm(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let row0 = wid.y * TM;
  let col0 = wid.x * TN;
  let tid = lid.y * 8u + lid.x;
  let L = qlayout(p.outRows, p.K);
  let per = 32u / BITS;  // codes per word
  let wpr = TK / per;    // code words per tile row: 2 (4-bit) or 4 (8-bit)
  var acc: array<f32, 16>;
  for (var k0 = 0u; k0 < p.K; k0 += TK) {
    for (var i = 0u; i < 8u; i++) {
      let e = tid + i * 64u;
      let rr = e / TK;
      let gk = k0 + e % TK;
      var a = 0.0;
      if (row0 + rr < count.n && gk < p.K) { a = x[(row0 + rr) * p.K + gk]; }
      As[e] = a;
    }
    // 32 weight rows x wpr words; values past K multiply zeros in As.
    for (var i = 0u; i < wpr / 2u; i++) {
      let e = tid + i * 64u;
      let rr = e / wpr;
      let kw = e % wpr;
      let o = col0 + rr;
      if (o < p.outRows) {
        let gi = o * L.groups + k0 / 32u;
        let word = qword(gi * BITS + ((k0 % 32u) / per) + kw);
        let d = qscale(L, gi);
        let m = qmin(L, gi);
        for (var n = 0u; n < per; n++) { Bs[rr * TK + kw * per + n] = d * (qcode(word, n) - qzero()) + m; }
      } else {
        for (var n = 0u; n < per; n++) { Bs[rr * TK + kw * per + n] = 0.0; }
      }
    }
    workgroupBarrier();
    for (var kk = 0u; kk < TK; kk++) {
      var bcol: array<f32, 4>;
      for (var j = 0u; j < 4u; j++) { bcol[j] = Bs[(lid.x * 4u + j) * TK + kk]; }
      for (var i = 0u; i < 4u; i++) {
        let a = As[(lid.y * 4u + i) * TK + kk];
        for (var j = 0u; j < 4u; j++) { acc[i * 4u + j] += a * bcol[j]; }
      }
    }
    workgroupBarrier();
  }
  for (var i = 0u; i < 4u; i++) {
    let r = row0 + lid.y * 4u + i;
    if (r >= count.n) { continue; }
    for (var j = 0u; j < 4u; j++) {
      let o = col0 + lid.x * 4u + j;
      if (o < p.outRows) { store(r, o, acc[i * 4u + j]); }
    }
  }
}
