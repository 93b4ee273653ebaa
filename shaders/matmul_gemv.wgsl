// GEMV for few rows: y[r, outOffset + o] (+)= sum_k x[r, k] * W[o, k] (+ b[o])
// W is one row-part of a [outTotal, K] weight, row-major ([outRows, K] here).
// A workgroup computes OUT_PER_WG outputs of one row; TPO threads reduce each dot product.
#include matmul_prelude
@group(0) @binding(2) var<storage, read> x: array<vec4<f32>>;  // [n, K/4]
@group(0) @binding(3) var<storage, read> w: array<vec4<f32>>;  // [outRows, K/4]

const TPO: u32 = 32u;        // threads per output
const OUT_PER_WG: u32 = 8u;  // outputs per workgroup (256 threads)
var<workgroup> partial: array<f32, 256>;

@compute @workgroup_size(256)
fn gemv_vec4(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let r = wid.y;
  if (r >= count.n) { return; }
  let o = wid.x * OUT_PER_WG + lid.x / TPO;
  let t = lid.x % TPO;
  let K4 = p.K / 4u;
  var s = 0.0;
  if (o < p.outRows) {
    for (var k = t; k < K4; k += TPO) {
      s += dot(x[r * K4 + k], w[o * K4 + k]);
    }
  }
  partial[lid.x] = s;
  workgroupBarrier();
  for (var stride = TPO / 2u; stride > 0u; stride /= 2u) {
    if (t < stride) { partial[lid.x] += partial[lid.x + stride]; }
    workgroupBarrier();
  }
  if (t == 0u && o < p.outRows) {
    store(r, o, partial[lid.x]);
  }
}
