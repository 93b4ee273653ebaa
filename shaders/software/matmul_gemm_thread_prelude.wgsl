// Shared by the barrier-free GEMMs for software adapters (#include matmul_gemm_thread_prelude,
// after matmul_prelude): 8x8 threads per workgroup, each computing a 4x4 block of y (rows r0.. x
// outputs o0..) straight from global memory, the workgroup covering a 32x32 tile (the grid of the
// tiled GEMMs). On a CPU the caches do the tiling, and every barrier switches coroutines. x comes
// from matmul_x (vec4 loads, K % 4 == 0; the 16-bit and quantized kernels read it through x8, which
// the subgroup drop-in serves once per subgroup: the 8 threads of a subgroup, one lid.y, share their
// rows); the including kernel declares w.
#include matmul_x

// The thread's first row and first output.
fn blockRow(wid: vec3<u32>, lid: vec3<u32>) -> u32 { return wid.y * 32u + lid.y * 4u; }
fn blockOut(wid: vec3<u32>, lid: vec3<u32>) -> u32 { return wid.x * 32u + lid.x * 4u; }
// Where rows r0 .. r0 + 3 of x and rows o0 .. o0 + 3 of W start (`stride` elements per row),
// clamped to the last row (their results are never stored).
fn xRows(r0: u32, stride: u32) -> vec4<u32> {
  return min(vec4<u32>(r0) + vec4<u32>(0u, 1u, 2u, 3u), vec4<u32>(count.n - 1u)) * stride;
}
fn wRows(o0: u32, stride: u32) -> vec4<u32> {
  return min(vec4<u32>(o0) + vec4<u32>(0u, 1u, 2u, 3u), vec4<u32>(p.outRows - 1u)) * stride;
}

// acc[i][j] (row r0 + i, output o0 + j) through the fused epilogue, skipping rows past n and
// outputs past outRows.
fn blockStore(r0: u32, o0: u32, acc: mat4x4<f32>) {
  for (var i = 0u; i < 4u; i++) {
    if (r0 + i >= count.n) { break; }
    for (var j = 0u; j < 4u; j++) {
      if (o0 + j < p.outRows) { store(r0 + i, o0 + j, acc[i][j]); }
    }
  }
}

// The thread's index in the 8x8 workgroup (x8's `lid`).
fn flatLid(lid: vec3<u32>) -> u32 { return lid.y * 8u + lid.x; }

// The dot products of 8 values of x (from element e; x8, so every thread of the subgroup calls it
// with its own row's e at the same step) with the 8 widened values of a, b, c, d.
fn dots8(e: u32, lid: u32, a: mat2x4<f32>, b: mat2x4<f32>, c: mat2x4<f32>, d: mat2x4<f32>) -> vec4<f32> {
  let v = x8(e, lid);
  let lo = v.lo;
  let hi = v.hi;
  return vec4<f32>(
    dot(lo, a[0]) + dot(hi, a[1]),
    dot(lo, b[0]) + dot(hi, b[1]),
    dot(lo, c[0]) + dot(hi, c[1]),
    dot(lo, d[0]) + dot(hi, d[1]),
  );
}
