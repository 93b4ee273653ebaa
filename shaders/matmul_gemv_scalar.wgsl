// GEMV for few rows when K is not a multiple of 4 (scalar loads):
// y[r, outOffset + o] (+)= sum_k x[r, k] * W[o, k] (+ b[o]); same layout as matmul_gemv.wgsl.
#include matmul_prelude
@group(0) @binding(2) var<storage, read> x: array<f32>;        // [n, K]
@group(0) @binding(3) var<storage, read> w: array<f32>;        // [outRows, K]

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
    store(r, o, partial[lid.x]);
  }
}
