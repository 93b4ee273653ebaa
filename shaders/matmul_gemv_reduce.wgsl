// Include slot `matmul_gemv_reduce` (from matmul_gemv_prelude): gemvFinish through shared memory.
// What a drop-in must keep (matmul_gemv_reduce_subgroup, software/matmul_gemv_reduce_thread; the pick:
// src/ops/matmul-kernels.ts): `fn gemvFinish(lid: u32, o: u32, r0: u32, s: vec4<f32>)`, storing through
// the prelude's gemvStore; no bindings of its own (workgroup memory, as here, is its own business).
var<workgroup> partial: array<vec4<f32>, WG>; // [WG] every thread's partial sums

// Thread `lid`'s partial sums `s` (see matmul_gemv_prelude) of outputs o..: one barrier, then the
// first thread of each output group adds its TPO partials in order and stores them through the
// epilogue. Call it from uniform control flow (it holds a barrier).
fn gemvFinish(lid: u32, o: u32, r0: u32, s: vec4<f32>) {
  partial[lid] = s;
  workgroupBarrier();
  if (lid % TPO == 0u) {
    var acc = s;
    for (var j = 1u; j < TPO; j++) { acc += partial[lid + j]; }
    gemvStore(o, r0, acc);
  }
}

