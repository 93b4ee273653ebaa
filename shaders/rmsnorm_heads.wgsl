// Per-head RMSNorm in place on two tensors in one dispatch (queries and keys, Qwen3's q_norm / k_norm):
// x [n, rowStride] holding nHeads heads of headDim at the start of each row, each head scaled by wx
// [headDim]; x2 [n, rowStride2] holding nHeads2 heads scaled by wx2 [headDim].
// head[:] = head[:] / sqrt(mean(head[:]^2) + eps) * w[:]. Workgroup (h, r): head h (< nHeads: x, else
// x2) of row r.
struct Params { nHeads: u32, headDim: u32, rowStride: u32, nHeads2: u32, rowStride2: u32, eps: f32, _p0: u32, _p1: u32 }
struct Count { n: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<uniform> count: Count;
@group(0) @binding(2) var<storage, read_write> x: array<f32>;  // [n, rowStride]
@group(0) @binding(3) var<storage, read> wx: array<f32>;       // [headDim]
@group(0) @binding(4) var<storage, read_write> x2: array<f32>; // [n, rowStride2]
@group(0) @binding(5) var<storage, read> wx2: array<f32>;      // [headDim]

override WG: u32 = 64;
var<workgroup> partial: array<f32, WG>;

fn load(second: bool, i: u32) -> f32 {
  if (second) { return x2[i]; }
  return x[i];
}

@compute @workgroup_size(WG)
fn rmsnorm_heads(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let r = wid.y;
  if (r >= count.n || wid.x >= p.nHeads + p.nHeads2) { return; }
  let second = wid.x >= p.nHeads;
  let base = select(r * p.rowStride + wid.x * p.headDim, r * p.rowStride2 + (wid.x - p.nHeads) * p.headDim, second);
  var s = 0.0;
  for (var j = lid.x; j < p.headDim; j += WG) {
    let v = load(second, base + j);
    s += v * v;
  }
  partial[lid.x] = s;
  workgroupBarrier();
  for (var stride = WG / 2u; stride > 0u; stride /= 2u) {
    if (lid.x < stride) { partial[lid.x] += partial[lid.x + stride]; }
    workgroupBarrier();
  }
  let inv = inverseSqrt(partial[0] / f32(p.headDim) + p.eps);
  for (var j = lid.x; j < p.headDim; j += WG) {
    if (second) {
      x2[base + j] = x2[base + j] * inv * wx2[j];
    } else {
      x[base + j] = x[base + j] * inv * wx[j];
    }
  }
}
