// Shared by the tiled GEMM kernels (#include matmul_gemm_tile, after matmul_prelude and the x
// binding): a workgroup of 8x8 threads computes a 32x32 tile of y (4x4 outputs per thread), K in
// steps of TK. The kernel fills Bs with its weight tile (f32, widened 16-bit or dequantized);
// the x tile, the multiply-accumulate and the fused store are the same for every weight format.
const TM: u32 = 32u;
const TN: u32 = 32u;
const TK: u32 = 16u;
var<workgroup> As: array<f32, 512>; // [TM, TK] rows row0.. of x, columns k0..
var<workgroup> Bs: array<f32, 512>; // [TN, TK] weight rows col0.., columns k0..

// As = x[row0 .. row0 + TM, k0 .. k0 + TK], zeros past n and K; tid = lid.y * 8 + lid.x.
fn loadXTile(row0: u32, k0: u32, tid: u32) {
  for (var i = 0u; i < 8u; i++) {
    let e = tid + i * 64u;
    let rr = e / TK;
    let gk = k0 + e % TK;
    var a = 0.0;
    if (row0 + rr < count.n && gk < p.K) { a = x[(row0 + rr) * p.K + gk]; }
    As[e] = a;
  }
}

// acc[i * 4 + j] += sum_kk As[lid.y * 4 + i, kk] * Bs[lid.x * 4 + j, kk] (between two barriers).
fn tileMac(acc: ptr<function, array<f32, 16>>, lid: vec3<u32>) {
  for (var kk = 0u; kk < TK; kk++) {
    var bcol: array<f32, 4>;
    for (var j = 0u; j < 4u; j++) { bcol[j] = Bs[(lid.x * 4u + j) * TK + kk]; }
    for (var i = 0u; i < 4u; i++) {
      let a = As[(lid.y * 4u + i) * TK + kk];
      for (var j = 0u; j < 4u; j++) { (*acc)[i * 4u + j] += a * bcol[j]; }
    }
  }
}

// The thread's 4x4 outputs through the fused epilogue (store), skipping rows past n and outputs past outRows.
fn storeTile(acc: ptr<function, array<f32, 16>>, row0: u32, col0: u32, lid: vec3<u32>) {
  for (var i = 0u; i < 4u; i++) {
    let r = row0 + lid.y * 4u + i;
    if (r >= count.n) { continue; }
    for (var j = 0u; j < 4u; j++) {
      let o = col0 + lid.x * 4u + j;
      if (o < p.outRows) { store(r, o, (*acc)[i * 4u + j]); }
    }
  }
}
