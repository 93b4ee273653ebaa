// Shared by the tiled GEMM kernels (#include matmul_gemm_tile, after matmul_prelude and the x
// binding): a workgroup of 8x8 threads computes a 32x32 tile of y (4x4 outputs per thread), K in
// steps of TK. This file holds the entry point `gemm`; the including kernel defines
// loadWTile(col0, k0, tid), which fills Bs with its weight tile through setB (f32, widened 16-bit or
// dequantized): the x tile, the loop, the multiply-accumulate and the fused store are the same for
// every weight format.
// Both tiles are stored K-major as vec4s of 4 rows (4 outputs), so each step of the inner loop is
// two vec4 loads and four vec4 multiply-adds, with no register array indexed by a loop counter.
const TM: u32 = 32u;
const TN: u32 = 32u;
const TK: u32 = 16u;
var<workgroup> As: array<vec4<f32>, 128>; // [TK, TM / 4]: As[kk * 8 + i / 4][i % 4] = x[row0 + i, k0 + kk]
var<workgroup> Bs: array<vec4<f32>, 128>; // [TK, TN / 4]: Bs[kk * 8 + j / 4][j % 4] = W[col0 + j, k0 + kk]

// Bs entry of weight row col0 + j, column k0 + kk.
fn setB(j: u32, kk: u32, v: f32) { Bs[kk * (TN / 4u) + j / 4u][j % 4u] = v; }

// As = x[row0 .. row0 + TM, k0 .. k0 + TK], zeros past n and K; tid = lid.y * 8 + lid.x.
fn loadXTile(row0: u32, k0: u32, tid: u32) {
  for (var i = 0u; i < 8u; i++) {
    let e = tid + i * 64u;
    let rr = e / TK;
    let kk = e % TK;
    var a = 0.0;
    if (row0 + rr < count.n && k0 + kk < p.K) { a = x[(row0 + rr) * p.K + k0 + kk]; }
    As[kk * (TM / 4u) + rr / 4u][rr % 4u] = a;
  }
}

// acc[i][j] += sum_kk x[row lid.y * 4 + i, kk] * W[col lid.x * 4 + j, kk] over the tile (between two
// barriers), kk ascending.
fn tileMac(acc: ptr<function, mat4x4<f32>>, lid: vec3<u32>) {
  for (var kk = 0u; kk < TK; kk++) {
    let a = As[kk * (TM / 4u) + lid.y];
    let b = Bs[kk * (TN / 4u) + lid.x];
    (*acc)[0] += a.x * b;
    (*acc)[1] += a.y * b;
    (*acc)[2] += a.z * b;
    (*acc)[3] += a.w * b;
  }
}

// The thread's 4x4 outputs through the fused epilogue (store), skipping rows past n and outputs past outRows.
fn storeTile(acc: ptr<function, mat4x4<f32>>, row0: u32, col0: u32, lid: vec3<u32>) {
  for (var i = 0u; i < 4u; i++) {
    let r = row0 + lid.y * 4u + i;
    if (r >= count.n) { continue; }
    for (var j = 0u; j < 4u; j++) {
      let o = col0 + lid.x * 4u + j;
      if (o < p.outRows) { store(r, o, (*acc)[i][j]); }
    }
  }
}

// y tile (wid.y, wid.x): K in steps of TK, each step the x tile and the kernel's weight tile
// (loadWTile) between two barriers.
@compute @workgroup_size(8, 8)
fn gemm(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let row0 = wid.y * TM;
  let col0 = wid.x * TN;
  let tid = lid.y * 8u + lid.x;
  var acc: mat4x4<f32>;
  for (var k0 = 0u; k0 < p.K; k0 += TK) {
    loadXTile(row0, k0, tid);
    loadWTile(col0, k0, tid);
    workgroupBarrier();
    tileMac(&acc, lid);
    workgroupBarrier();
  }
  storeTile(&acc, row0, col0, lid);
}
