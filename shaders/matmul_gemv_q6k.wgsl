// GEMV for few rows with Q6_K weights (q6k_prelude): y[r, o] (+)= sum_k x[r, k] * W[o, k].
// TPO threads per output, each taking whole 32-value runs of a block (one ql nibble plane, one qh bit
// pair, two scales): the 32 codes (q - 32) widened to 8 vec4<f32> in registers, then per row
// scale0 * dot(x[0..16], code) + scale1 * dot(x[16..32], code) from vec4 loads of x. Codes are read
// once for up to ROWS rows, then summed by gemvFinish.
#include matmul_prelude
#include matmul_gemv_prelude
#include q6k_prelude

@group(0) @binding(2) var<storage, read> x: array<vec4<f32>>; // [n, K/4]

// Codes (q - 32) of the four bytes of a ql word and a qh word: nibble `ls`, bit pair `hs`.
fn codes4(ql: u32, qh: u32, ls: u32, hs: u32) -> vec4<f32> {
  let s = vec4<u32>(0u, 8u, 16u, 24u);
  let lo = (vec4<u32>(ql) >> (s + ls)) & vec4<u32>(15u);
  let hi = (vec4<u32>(qh) >> (s + hs)) & vec4<u32>(3u);
  return vec4<f32>(lo | (hi << vec4<u32>(4u))) - 32.0;
}

@compute @workgroup_size(WG)
fn gemv(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let r0 = wid.y * ROWS;
  if (r0 >= count.n) { return; }
  let o = wid.x * OUT_PER_WG + lid.x / TPO;
  let t = lid.x % TPO;
  let L = q6layout(p.outRows, p.K);
  let K4 = p.K / 4u;
  let runs = p.K / 32u;
  var s = vec4<f32>(0.0);
  if (o < p.outRows) {
    for (var run = t; run < runs; run += TPO) {
      let b = o * L.blocks + run / 8u;
      let g = run % 8u; // values 32g .. 32g + 31 of block b: n = g / 4, k = g % 4
      let n = g / 4u;
      let k = g % 4u;
      let ql0 = (b * 128u + 64u * n + 32u * (k & 1u)) / 16u; // vec4 index of the 32 ql bytes
      let qh0 = (L.qhBase * 4u + b * 64u + 32u * n) / 16u;   // vec4 index of the 32 qh bytes
      let ls = 4u * (k >> 1u);
      let hs = 2u * k;
      let la = w[ql0];
      let lb = w[ql0 + 1u];
      let ha = w[qh0];
      let hb = w[qh0 + 1u];
      let c = array<vec4<f32>, 8>(
        codes4(la.x, ha.x, ls, hs), codes4(la.y, ha.y, ls, hs), codes4(la.z, ha.z, ls, hs), codes4(la.w, ha.w, ls, hs),
        codes4(lb.x, hb.x, ls, hs), codes4(lb.y, hb.y, ls, hs), codes4(lb.z, hb.z, ls, hs), codes4(lb.w, hb.w, ls, hs));
      let d0 = q6scale(L, b, 2u * g);
      let d1 = q6scale(L, b, 2u * g + 1u);
      for (var i = 0u; i < ROWS; i++) {
        if (r0 + i >= count.n) { break; }
        let xr = (r0 + i) * K4 + run * 8u; // vec4 index of the run's x
        var a = vec4<f32>(0.0);
        var z = vec4<f32>(0.0);
        for (var j = 0u; j < 4u; j++) {
          a += x[xr + j] * c[j];
          z += x[xr + 4u + j] * c[4u + j];
        }
        s[i] += d0 * dot(a, vec4<f32>(1.0)) + d1 * dot(z, vec4<f32>(1.0));
      }
    }
  }
  gemvFinish(lid.x, o, r0, s);
}
