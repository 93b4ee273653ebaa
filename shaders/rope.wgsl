// RoPE, Hugging Face rotate-half convention, in place on two tensors in one dispatch (queries and
// keys): x [n, rowStride] holding nHeads heads of headDim at the start of each row, and x2
// [n, rowStride2] holding nHeads2 heads (nHeads2 = 0: x alone). Row r is rotated by angle
// pos[r] * theta_i, theta_i = base^(-2i/headDim); cos/sin come from a host-computed table so large
// positions stay exact. A negative pos rotates back (used to shift cached keys: R(new) = R(new - old) R(old)).
struct Params { nHeads: u32, headDim: u32, rowStride: u32, nHeads2: u32, rowStride2: u32, _p0: u32, _p1: u32, _p2: u32 }
struct Count { n: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<uniform> count: Count;
@group(0) @binding(2) var<storage, read> pos: array<i32>;         // [n]
@group(0) @binding(3) var<storage, read> cs: array<vec2<f32>>;    // [maxPos, headDim/2] (cos, sin)
@group(0) @binding(4) var<storage, read_write> x: array<f32>;     // [n, rowStride]
@group(0) @binding(5) var<storage, read_write> x2: array<f32>;    // [n, rowStride2] (dummy when nHeads2 = 0)

override WG: u32 = 64;

@compute @workgroup_size(WG)
fn rope(@builtin(global_invocation_id) gid: vec3<u32>) {
  let half = p.headDim / 2u;
  let r = gid.y;
  if (r >= count.n || gid.x >= (p.nHeads + p.nHeads2) * half) { return; }
  let h = gid.x / half;
  let i = gid.x % half;
  let ps = pos[r];
  let t = cs[u32(abs(ps)) * half + i];
  let s = select(t.y, -t.y, ps < 0);
  if (h < p.nHeads) {
    let base = r * p.rowStride + h * p.headDim;
    let a = x[base + i];
    let bb = x[base + i + half];
    x[base + i] = a * t.x - bb * s;
    x[base + i + half] = bb * t.x + a * s;
  } else {
    let base = r * p.rowStride2 + (h - p.nHeads) * p.headDim;
    let a = x2[base + i];
    let bb = x2[base + i + half];
    x2[base + i] = a * t.x - bb * s;
    x2[base + i + half] = bb * t.x + a * s;
  }
}
