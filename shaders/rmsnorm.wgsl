// RMSNorm: out[r, :] = x[r, :] / sqrt(mean(x[r, :]^2) + eps) * w[:]; accumulate = 1 adds it to out
// instead (Gemma's post-norms: the residual add folded in).
struct Params { dim: u32, eps: f32, accumulate: u32, _p1: u32 }
struct Count { n: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<uniform> count: Count;
@group(0) @binding(2) var<storage, read> x: array<f32>;        // [n, dim]
@group(0) @binding(3) var<storage, read> w: array<f32>;        // [dim]
@group(0) @binding(4) var<storage, read_write> out: array<f32>; // [n, dim]

override WG: u32 = 64;
var<workgroup> partial: array<f32, WG>;

@compute @workgroup_size(WG)
fn rmsnorm(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let r = wid.x;
  if (r >= count.n) { return; }
  let base = r * p.dim;
  var s = 0.0;
  for (var j = lid.x; j < p.dim; j += WG) {
    let v = x[base + j];
    s += v * v;
  }
  partial[lid.x] = s;
  workgroupBarrier();
  for (var stride = WG / 2u; stride > 0u; stride /= 2u) {
    if (lid.x < stride) { partial[lid.x] += partial[lid.x + stride]; }
    workgroupBarrier();
  }
  let inv = inverseSqrt(partial[0] / f32(p.dim) + p.eps);
  for (var j = lid.x; j < p.dim; j += WG) {
    let v = x[base + j] * inv * w[j];
    if (p.accumulate != 0u) { out[base + j] += v; } else { out[base + j] = v; }
  }
}
