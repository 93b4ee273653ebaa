// Element-wise ops over n rows of `width` values.
//   silu_mul: out[i] = silu(gate[i]) * up[i]     (SwiGLU)
//   add:      x[i] += y[i]                        (residual)
struct Params { width: u32, _p0: u32, _p1: u32, _p2: u32 }
struct Count { n: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<uniform> count: Count;
@group(0) @binding(2) var<storage, read> a: array<f32>;           // [n, width] (gate | y)
@group(0) @binding(3) var<storage, read> b: array<f32>;           // [n, width] (up; not bound for add)
@group(0) @binding(4) var<storage, read_write> out: array<f32>;   // [n, width] (out | x)

override WG: u32 = 256;

fn flat(gid: vec3<u32>, nwg: vec3<u32>) -> u32 {
  return gid.x + gid.y * nwg.x * WG;
}

@compute @workgroup_size(WG)
fn silu_mul(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = flat(gid, nwg);
  if (i >= count.n * p.width) { return; }
  let g = a[i];
  out[i] = g / (1.0 + exp(-g)) * b[i];
}

@compute @workgroup_size(WG)
fn add(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = flat(gid, nwg);
  if (i >= count.n * p.width) { return; }
  out[i] = out[i] + a[i];
}
