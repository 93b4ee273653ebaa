// Shared by the GEMV kernels (#include matmul_gemv_prelude, after matmul_prelude): the work split
// and the reduction. A thread computes OPT consecutive outputs for ROWS rows (OPT * ROWS <= 4: its
// partial sums are one vec4, element j * ROWS + i for output o + j, row r0 + i) over every TPO-th
// step of K; TPO threads per output group, OUT_PER_WG outputs and ROWS rows per workgroup. The
// reduction gemvFinish(lid, o, r0, s) comes from matmul_gemv_reduce (shared memory, one barrier) or
// matmul_gemv_reduce_subgroup (subgroup shuffles, no barrier).
override ROWS: u32 = 1;  // rows per workgroup, 1..4 (grid y = ceil(n / ROWS))
override OPT: u32 = 1;   // outputs per thread, 1..4 / ROWS
override TPO: u32 = 8u;  // threads per output, a power of two (subgroup reduce: at most the subgroup size)
override WG: u32 = 256u;  // threads per workgroup
override OUT_PER_WG: u32 = WG / TPO * OPT;
#include matmul_gemv_reduce

// The first output of thread `lid` in workgroup `wgx`.
fn gemvOutput(wgx: u32, lid: u32) -> u32 { return wgx * OUT_PER_WG + lid / TPO * OPT; }
// Rows r0 .. r0 + 3 of x, clamped to the last row (rows past count.n are computed from it, never
// stored), times `stride`: where each row starts.
fn gemvRowBases(r0: u32, stride: u32) -> vec4<u32> {
  return min(vec4<u32>(r0) + vec4<u32>(0u, 1u, 2u, 3u), vec4<u32>(count.n - 1u)) * stride;
}
// Weight rows o .. o + 3 (clamped as gemvWeightRow) times `stride`.
fn gemvWeightBases(o: u32, stride: u32) -> vec4<u32> {
  return min(vec4<u32>(o) + vec4<u32>(0u, 1u, 2u, 3u), vec4<u32>(p.outRows - 1u)) * stride;
}

// The outputs o.. (OPT, below outRows) of rows r0.. (ROWS, below count.n) through the epilogue.
fn gemvStore(o: u32, r0: u32, acc: vec4<f32>) {
  for (var j = 0u; j < OPT; j++) {
    if (o + j >= p.outRows) { break; }
    for (var i = 0u; i < ROWS; i++) {
      if (r0 + i >= count.n) { break; }
      store(r0 + i, o + j, acc[j * ROWS + i]);
    }
  }
}
