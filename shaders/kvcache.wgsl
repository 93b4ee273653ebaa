// Scatter freshly computed rows into the per-layer KV cache at their positions:
//   kc[pos[r], :] = k[r, :],  vc[pos[r], :] = v[r, :]
struct Params { kvDim: u32, _p0: u32, _p1: u32, _p2: u32 }
struct Count { n: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<uniform> count: Count;
@group(0) @binding(2) var<storage, read> pos: array<i32>;          // [n]
@group(0) @binding(3) var<storage, read> k: array<f32>;            // [n, kvDim]
@group(0) @binding(4) var<storage, read> v: array<f32>;            // [n, kvDim]
@group(0) @binding(5) var<storage, read_write> kc: array<f32>;     // [ctx, kvDim]
@group(0) @binding(6) var<storage, read_write> vc: array<f32>;     // [ctx, kvDim]

override WG: u32 = 64;

@compute @workgroup_size(WG)
fn scatter(@builtin(global_invocation_id) gid: vec3<u32>) {
  let j = gid.x;
  let r = gid.y;
  if (r >= count.n || j >= p.kvDim) { return; }
  let dst = u32(pos[r]) * p.kvDim + j;
  kc[dst] = k[r * p.kvDim + j];
  vc[dst] = v[r * p.kvDim + j];
}
