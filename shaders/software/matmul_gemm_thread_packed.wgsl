// GEMM for many rows on software adapters with 16-bit weights (BF16 or F16) packed two per u32
// along K, K % 8 == 0: y[r, outOffset + o] (+)= sum_k x[r, k] * W[o, k] (+ b[o]). The split of
// matmul_gemm_thread_prelude (a 4x4 block per thread, no shared memory, no barrier), 8 values of K
// per step: one vec4<u32> per weight row, widened in registers (BF16 by a shift, F16 by
// unpack2x16float), 8 values of x per row (x8). Outputs past the end are clamped, not skipped: the
// subgroup's threads (one lid.y, so the same rows) share the x reads.
#include matmul_prelude
#include packed16_prelude
#include matmul_gemm_thread_prelude
@group(0) @binding(3) var<storage, read> w: array<vec4<u32>>;  // [outRows, K/8]

// The 8 values packed in wv: columns 0 (values 0..3) and 1 (values 4..7).
fn widen(wv: vec4<u32>) -> mat2x4<f32> {
  return mat2x4<f32>(vec4<f32>(unpack2(wv.x), unpack2(wv.y)), vec4<f32>(unpack2(wv.z), unpack2(wv.w)));
}

@compute @workgroup_size(8, 8)
fn gemm_vec8(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let r0 = blockRow(wid, lid);
  let o0 = blockOut(wid, lid);
  if (r0 >= count.n) { return; }
  let t = flatLid(lid);
  let K8 = p.K / 8u;
  let xb = xRows(r0, p.K);
  let wb = wRows(o0, K8);
  var acc: mat4x4<f32>; // acc[i][j]: row r0 + i, output o0 + j
  for (var k = 0u; k < K8; k++) {
    let a = widen(w[wb.x + k]);
    let b = widen(w[wb.y + k]);
    let c = widen(w[wb.z + k]);
    let d = widen(w[wb.w + k]);
    let e = 8u * k;
    acc[0] += dots8(xb.x + e, t, a, b, c, d);
    acc[1] += dots8(xb.y + e, t, a, b, c, d);
    acc[2] += dots8(xb.z + e, t, a, b, c, d);
    acc[3] += dots8(xb.w + e, t, a, b, c, d);
  }
  blockStore(r0, o0, acc);
}
