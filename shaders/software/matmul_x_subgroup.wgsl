// x of the 16-bit and quantized 'thread'-split GEMVs and thread GEMMs read once per subgroup
// (#include'd in place of matmul_x on software adapters with subgroups of 8 or more lanes, where
// every thread of a subgroup needs the same 8 values of x: one row for the GEMVs, one lid.y for the
// GEMMs). Lane i of each 8 loads value i and subgroupBroadcast hands it to all: one load per thread
// instead of 8. On lavapipe a load from a computed address is a per-lane scalar load (~8
// instructions), a broadcast one vector permute. Every thread of the subgroup must call x8 with the
// same e (the kernels run the K loop for every thread, clamping rows instead of returning). Assumes
// subgroups of consecutive local invocation indices, aligned to their size, so that lid % 8 names
// the lane's place within an aligned group of 8 (lanes 8.. repeat lanes 0..7).
enable subgroups;
diagnostic(off, subgroup_uniformity);

@group(0) @binding(2) var<storage, read> x: array<f32>;  // [n, K]

// Eight consecutive values of x.
struct X8 { lo: vec4<f32>, hi: vec4<f32> }

// x[e .. e + 8] (flat element index e, a multiple of 8) in every lane of the subgroup.
fn x8(e: u32, lid: u32) -> X8 {
  let v = x[e + lid % 8u];
  return X8(
    vec4<f32>(subgroupBroadcast(v, 0u), subgroupBroadcast(v, 1u), subgroupBroadcast(v, 2u), subgroupBroadcast(v, 3u)),
    vec4<f32>(subgroupBroadcast(v, 4u), subgroupBroadcast(v, 5u), subgroupBroadcast(v, 6u), subgroupBroadcast(v, 7u)),
  );
}

