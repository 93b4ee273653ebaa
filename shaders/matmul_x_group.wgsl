// A quantization group's 32 values of x (#include matmul_x_group, after matmul_x or a drop-in):
// four x8 reads, so the subgroup drop-ins share them too.
struct XGroup { a: vec4<f32>, b: vec4<f32>, c: vec4<f32>, d: vec4<f32>, e: vec4<f32>, f: vec4<f32>, g: vec4<f32>, h: vec4<f32> }

// x[e .. e + 32] (flat element index e, a multiple of 32).
fn x32(e: u32, lid: u32) -> XGroup {
  let v0 = x8(e, lid);
  let v1 = x8(e + 8u, lid);
  let v2 = x8(e + 16u, lid);
  let v3 = x8(e + 24u, lid);
  return XGroup(v0.lo, v0.hi, v1.lo, v1.hi, v2.lo, v2.hi, v3.lo, v3.hi);
}
