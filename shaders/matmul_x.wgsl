// x of the 16-bit and quantized GEMV kernels (#include matmul_x), each thread reading the values
// it needs itself. matmul_x_subgroup is the drop-in that shares the reads across a subgroup.
@group(0) @binding(2) var<storage, read> x: array<vec4<f32>>;  // [n, K/4]

// Eight consecutive values of x.
struct X8 { lo: vec4<f32>, hi: vec4<f32> }

// x[e .. e + 8] (flat element index e, a multiple of 8); `lid` (unused here) as in the subgroup drop-in.
fn x8(e: u32, lid: u32) -> X8 { return X8(x[e / 4u], x[e / 4u + 1u]); }

// A quantization group's 32 values of x as 8 vec4 (named fields: no register array indexed by a counter).
struct XGroup { a: vec4<f32>, b: vec4<f32>, c: vec4<f32>, d: vec4<f32>, e: vec4<f32>, f: vec4<f32>, g: vec4<f32>, h: vec4<f32> }

// x[e .. e + 32] (flat element index e, a multiple of 32).
fn x32(e: u32, lid: u32) -> XGroup {
  let i = e / 4u;
  return XGroup(x[i], x[i + 1u], x[i + 2u], x[i + 3u], x[i + 4u], x[i + 5u], x[i + 6u], x[i + 7u]);
}
