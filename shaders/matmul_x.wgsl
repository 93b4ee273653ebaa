// Include slot `matmul_x`: x of the GEMV kernels (16-bit, quantized) and of the thread GEMMs, each
// thread reading the values it needs itself. matmul_x_group builds a quantization group's 32 values
// on x8.
// What a drop-in must keep (software/matmul_x_subgroup for 8+ lanes, software/matmul_x_subgroup4; the
// pick: src/ops/matmul-kernels.ts): binding 2 named `x`, read-only storage over the [n, K] f32 input
// (its element type is the drop-in's own: vec4<f32> here, f32 and vec2<f32> there; the kernels read x
// only through x8), `struct X8 { lo: vec4<f32>, hi: vec4<f32> }` and `fn x8(e: u32, lid: u32) -> X8`.
@group(0) @binding(2) var<storage, read> x: array<vec4<f32>>;  // [n, K/4]

// Eight consecutive values of x.
struct X8 { lo: vec4<f32>, hi: vec4<f32> }

// x[e .. e + 8] (flat element index e, a multiple of 8); `lid` (unused here) as in the subgroup drop-in.
fn x8(e: u32, lid: u32) -> X8 { return X8(x[e / 4u], x[e / 4u + 1u]); }

