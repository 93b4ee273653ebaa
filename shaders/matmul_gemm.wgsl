// Tiled GEMM for many rows: y[r, outOffset + o] (+)= sum_k x[r, k] * W[o, k] (+ b[o])
// Workgroup 8x8 threads computes a 32x32 tile of y (4x4 per thread), K in steps of 16.
struct Params { K: u32, outRows: u32, outStride: u32, outOffset: u32, hasBias: u32, accumulate: u32, gated: u32, _p2: u32 }
struct Count { n: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<uniform> count: Count;
@group(0) @binding(2) var<storage, read> x: array<f32>;        // [n, K]
@group(0) @binding(3) var<storage, read> w: array<f32>;        // [outRows, K]
@group(0) @binding(4) var<storage, read> b: array<f32>;        // [outRows]
@group(0) @binding(5) var<storage, read_write> y: array<f32>;  // [n, outStride]
@group(0) @binding(6) var<storage, read> g: array<f32>;        // [n, outStride] gate (dummy when gated = 0)

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
  var acc: array<f32, 16>;
  for (var k0 = 0u; k0 < p.K; k0 += TK) {
    for (var i = 0u; i < 8u; i++) {
      let e = tid + i * 64u;
      let rr = e / TK;
      let gk = k0 + e % TK;
      var a = 0.0;
      if (row0 + rr < count.n && gk < p.K) { a = x[(row0 + rr) * p.K + gk]; }
      As[e] = a;
      var bv = 0.0;
      if (col0 + rr < p.outRows && gk < p.K) { bv = w[(col0 + rr) * p.K + gk]; }
      Bs[e] = bv;
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
      if (o >= p.outRows) { continue; }
      var v = acc[i * 4u + j];
      if (p.hasBias != 0u) { v += b[o]; }
      let yi = r * p.outStride + p.outOffset + o;
      if (p.accumulate != 0u) { v += y[yi]; } // residual add folded in: y += W x
      if (p.gated != 0u) { v = g[yi] / (1.0 + exp(-g[yi])) * v; } // SwiGLU: silu(gate) * up
      y[yi] = v;
    }
  }
}
