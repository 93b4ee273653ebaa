// gemvFinish through subgroup shuffles, no shared memory and no barrier (#include'd in place of
// matmul_gemv_reduce where the adapter has `subgroups` and TPO <= its smallest subgroup size).
// Assumes subgroups hold consecutive local invocation indices, aligned to the subgroup size (as on
// every Vulkan, Metal and D3D12 driver for 1-D workgroups), so the TPO threads of one output
// (lid / TPO equal) share a subgroup and lane lid ^ m (m < TPO) is a thread of the same output.
enable subgroups;
diagnostic(off, subgroup_uniformity);

// Thread `lid`'s partial sums `s` (see matmul_gemv_prelude) of outputs o..: a butterfly of log2(TPO) shuffles
// leaves the sum in every lane; the first thread of each output stores the rows.
fn gemvFinish(lid: u32, o: u32, r0: u32, s: vec4<f32>) {
  var acc = s;
  for (var m = TPO / 2u; m > 0u; m /= 2u) { acc += subgroupShuffleXor(acc, m); }
  if (lid % TPO == 0u) { gemvStore(o, r0, acc); }
}

