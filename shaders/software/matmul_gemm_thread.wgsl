// GEMM for many rows on software adapters (KernelContext.software), f32 weights, K % 4 == 0:
// y[r, outOffset + o] (+)= sum_k x[r, k] * W[o, k] (+ b[o]). The split of
// matmul_gemm_thread_prelude (a 4x4 block per thread, no shared memory, no barrier), one vec4 of K
// per step: 8 loads per 64 multiply-adds.
#include matmul_prelude
#include matmul_gemm_thread_prelude
@group(0) @binding(3) var<storage, read> w: array<vec4<f32>>;  // [outRows, K/4]

// (dot(xv, a), dot(xv, b), dot(xv, c), dot(xv, d))
fn dots(xv: vec4<f32>, a: vec4<f32>, b: vec4<f32>, c: vec4<f32>, d: vec4<f32>) -> vec4<f32> {
  return vec4<f32>(dot(xv, a), dot(xv, b), dot(xv, c), dot(xv, d));
}

@compute @workgroup_size(8, 8)
fn gemm_vec4(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let r0 = blockRow(wid, lid);
  let o0 = blockOut(wid, lid);
  if (r0 >= count.n || o0 >= p.outRows) { return; }
  let K4 = p.K / 4u;
  let xb = xRows(r0, K4);
  let wb = wRows(o0, K4);
  var acc: mat4x4<f32>; // acc[i][j]: row r0 + i, output o0 + j
  for (var k = 0u; k < K4; k++) {
    let a = w[wb.x + k];
    let b = w[wb.y + k];
    let c = w[wb.z + k];
    let d = w[wb.w + k];
    acc[0] += dots(x[xb.x + k], a, b, c, d);
    acc[1] += dots(x[xb.y + k], a, b, c, d);
    acc[2] += dots(x[xb.z + k], a, b, c, d);
    acc[3] += dots(x[xb.w + k], a, b, c, d);
  }
  blockStore(r0, o0, acc);
}
