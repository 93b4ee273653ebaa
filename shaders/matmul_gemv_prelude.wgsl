// Shared by the packed 16-bit and quantized GEMV kernels (#include matmul_gemv_prelude, after
// matmul_prelude): the work split (TPO threads per output, OUT_PER_WG outputs and ROWS rows per
// workgroup) and the reduction.
override ROWS: u32 = 1;  // rows per workgroup, 1..4 (grid y = ceil(n / ROWS))
const TPO: u32 = 8u;     // threads per output
const WG: u32 = 256u;
const OUT_PER_WG: u32 = WG / TPO;
var<workgroup> partial: array<vec4<f32>, WG>; // [WG] partial sums of rows r0..r0+3

// Thread `lid`'s partial sums `s` (rows r0..r0+3) of output o: one barrier, then the first thread of
// each output adds its TPO partials in order and stores the rows through the epilogue. Call it from
// uniform control flow (it holds a barrier).
fn gemvFinish(lid: u32, o: u32, r0: u32, s: vec4<f32>) {
  partial[lid] = s;
  workgroupBarrier();
  if (lid % TPO == 0u && o < p.outRows) {
    var acc = s;
    for (var j = 1u; j < TPO; j++) { acc += partial[lid + j]; }
    for (var i = 0u; i < ROWS; i++) {
      if (r0 + i >= count.n) { break; }
      store(r0 + i, o, acc[i]);
    }
  }
}
