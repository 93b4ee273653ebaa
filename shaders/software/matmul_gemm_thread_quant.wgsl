// GEMM for many rows on software adapters with group-quantized weights (quant_prelude), K % 32 == 0:
// y[r, o] (+)= sum_k x[r, k] * W[o, k]. The split of matmul_gemm_thread_prelude (a 4x4 block per
// thread, no shared memory, no barrier), one 32-value group per step: each weight row's codes read
// as one vec4<u32> (4-bit) or two (8-bit), dequantized 8 values at a time in registers as
// code * scale + (min - zero * scale) (4-bit nibbles masked in place, their place values folded
// into the scale), then dotted with 8 values of x per row at a time (x8); accumulated in f32. Outputs
// past the end are clamped, not skipped: the subgroup's threads share the x reads.
#include matmul_prelude
#include quant_prelude
#include matmul_gemm_thread_prelude

// One weight row's group: its codes (4-bit: `lo` only) and the affine map code -> value per lane.
struct QGroup { lo: vec4<u32>, hi: vec4<u32>, scale: vec4<f32>, offset: vec4<f32> }

fn qgroup(L: QLayout, gi: u32) -> QGroup {
  let d = qscale(L, gi);
  let offset = vec4<f32>(qmin(L, gi) - qzero() * d);
  if (BITS == 4u) {
    // nib4's place values undone in the scale.
    return QGroup(w[gi], vec4<u32>(0u), d * NIBBLE_PLACES, offset);
  }
  return QGroup(w[2u * gi], w[2u * gi + 1u], vec4<f32>(d), offset);
}

// Values 8s .. 8s + 7 (s = 0..3) of the group, dequantized: columns 0 (values 0..3) and 1 (4..7).
fn widen(g: QGroup, s: u32) -> mat2x4<f32> {
  var a: vec4<f32>;
  var b: vec4<f32>;
  if (BITS == 4u) {
    let word = g.lo[s];
    a = nib4(word);
    b = nib4(word >> 16u);
  } else {
    let words = select(g.lo, g.hi, s >= 2u);
    a = c8(words[2u * (s & 1u)]);
    b = c8(words[2u * (s & 1u) + 1u]);
  }
  return mat2x4<f32>(fma(a, g.scale, g.offset), fma(b, g.scale, g.offset));
}

@compute @workgroup_size(8, 8)
fn gemm(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let r0 = blockRow(wid, lid);
  let o0 = blockOut(wid, lid);
  if (r0 >= count.n) { return; }
  let t = flatLid(lid);
  let L = qlayout(p.outRows, p.K);
  let xb = xRows(r0, p.K);
  let g0 = wRows(o0, L.groups); // first group of each of the thread's 4 weight rows
  var acc: mat4x4<f32>; // acc[i][j]: row r0 + i, output o0 + j
  for (var grp = 0u; grp < L.groups; grp++) {
    let qa = qgroup(L, g0.x + grp);
    let qb = qgroup(L, g0.y + grp);
    let qc = qgroup(L, g0.z + grp);
    let qd = qgroup(L, g0.w + grp);
    for (var s = 0u; s < 4u; s++) {
      let a = widen(qa, s);
      let b = widen(qb, s);
      let c = widen(qc, s);
      let d = widen(qd, s);
      let e = grp * 32u + 8u * s;
      acc[0] += dots8(xb.x + e, t, a, b, c, d);
      acc[1] += dots8(xb.y + e, t, a, b, c, d);
      acc[2] += dots8(xb.z + e, t, a, b, c, d);
      acc[3] += dots8(xb.w + e, t, a, b, c, d);
    }
  }
  blockStore(r0, o0, acc);
}
