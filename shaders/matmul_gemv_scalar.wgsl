// GEMV for few rows when K is not a multiple of 4 (scalar loads):
// y[r, outOffset + o] (+)= sum_k x[r, k] * W[o, k] (+ b[o]); same layout as matmul_gemv.wgsl.
struct Params { K: u32, outRows: u32, outStride: u32, outOffset: u32, hasBias: u32, accumulate: u32, gated: u32, _p2: u32 }
struct Count { n: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<uniform> count: Count;
@group(0) @binding(2) var<storage, read> x: array<f32>;        // [n, K]
@group(0) @binding(3) var<storage, read> w: array<f32>;        // [outRows, K]
@group(0) @binding(4) var<storage, read> b: array<f32>;        // [outRows]
@group(0) @binding(5) var<storage, read_write> y: array<f32>;  // [n, outStride]
@group(0) @binding(6) var<storage, read> g: array<f32>;        // [n, outStride] gate (dummy when gated = 0)

const TPO: u32 = 32u;
const OUT_PER_WG: u32 = 8u;
var<workgroup> partial: array<f32, 256>;

@compute @workgroup_size(256)
fn gemv_scalar(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let r = wid.y;
  if (r >= count.n) { return; }
  let o = wid.x * OUT_PER_WG + lid.x / TPO;
  let t = lid.x % TPO;
  var s = 0.0;
  if (o < p.outRows) {
    for (var k = t; k < p.K; k += TPO) {
      s += x[r * p.K + k] * w[o * p.K + k];
    }
  }
  partial[lid.x] = s;
  workgroupBarrier();
  for (var stride = TPO / 2u; stride > 0u; stride /= 2u) {
    if (t < stride) { partial[lid.x] += partial[lid.x + stride]; }
    workgroupBarrier();
  }
  if (t == 0u && o < p.outRows) {
    var acc = partial[lid.x];
    if (p.hasBias != 0u) { acc += b[o]; }
    let yi = r * p.outStride + p.outOffset + o;
    if (p.accumulate != 0u) { acc += y[yi]; } // residual add folded in: y += W x
    if (p.gated != 0u) { acc = g[yi] / (1.0 + exp(-g[yi])) * acc; } // SwiGLU: silu(gate) * up
    y[yi] = acc;
  }
}
