// GEMM for many rows on software adapters (KernelContext.software), f32 weights, K % 4 == 0:
// y[r, outOffset + o] (+)= sum_k x[r, k] * W[o, k] (+ b[o]). The split of
// matmul_gemm_thread_prelude (a 4x4 block per thread, no shared memory, no barrier), one vec4 of K
// per step: 8 loads per 64 multiply-adds.
#include matmul_prelude
#include matmul_gemm_thread_prelude
@group(0) @binding(2) var<storage, read> x: array<vec4<f32>>;  // [n, K/4]
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
  let x0 = xRow(r0) * K4;
  let x1 = xRow(r0 + 1u) * K4;
  let x2 = xRow(r0 + 2u) * K4;
  let x3 = xRow(r0 + 3u) * K4;
  let w0 = wRow(o0) * K4;
  let w1 = wRow(o0 + 1u) * K4;
  let w2 = wRow(o0 + 2u) * K4;
  let w3 = wRow(o0 + 3u) * K4;
  var acc: mat4x4<f32>; // acc[i][j]: row r0 + i, output o0 + j
  for (var k = 0u; k < K4; k++) {
    let a = w[w0 + k];
    let b = w[w1 + k];
    let c = w[w2 + k];
    let d = w[w3 + k];
    acc[0] += dots(x[x0 + k], a, b, c, d);
    acc[1] += dots(x[x1 + k], a, b, c, d);
    acc[2] += dots(x[x2 + k], a, b, c, d);
    acc[3] += dots(x[x3 + k], a, b, c, d);
  }
  blockStore(r0, o0, acc);
}
