// x of the GEMV kernels (16-bit, quantized) and of the thread GEMMs (#include matmul_x), each thread
// reading the values it needs itself. matmul_x_subgroup (8+ lanes) and matmul_x_subgroup4 are the
// drop-ins that share the reads across a subgroup. matmul_x_group builds a quantization group's 32
// values on x8.
@group(0) @binding(2) var<storage, read> x: array<vec4<f32>>;  // [n, K/4]

// Eight consecutive values of x.
struct X8 { lo: vec4<f32>, hi: vec4<f32> }

// x[e .. e + 8] (flat element index e, a multiple of 8); `lid` (unused here) as in the subgroup drop-in.
fn x8(e: u32, lid: u32) -> X8 { return X8(x[e / 4u], x[e / 4u + 1u]); }

