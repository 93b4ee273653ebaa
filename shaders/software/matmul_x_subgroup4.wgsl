// matmul_x_subgroup for subgroups of 4 lanes (SwiftShader): lane i of each 4 loads values 2i, 2i + 1
// of the 8 (one vec2) and subgroupBroadcast hands them to all: one load per thread instead of 2 vec4.
// Same contract as matmul_x_subgroup (every thread of the subgroup calls x8 / x32 with the same e;
// subgroups of consecutive local invocation indices, aligned, so lid % 4 is the lane).
enable subgroups;
diagnostic(off, subgroup_uniformity);

@group(0) @binding(2) var<storage, read> x: array<vec2<f32>>;  // [n, K/2]

// Eight consecutive values of x.
struct X8 { lo: vec4<f32>, hi: vec4<f32> }

// x[e .. e + 8] (flat element index e, a multiple of 8) in every lane of the subgroup.
fn x8(e: u32, lid: u32) -> X8 {
  let v = x[e / 2u + lid % 4u];
  let a = subgroupBroadcast(v, 0u);
  let b = subgroupBroadcast(v, 1u);
  let c = subgroupBroadcast(v, 2u);
  let d = subgroupBroadcast(v, 3u);
  return X8(vec4<f32>(a, b), vec4<f32>(c, d));
}
