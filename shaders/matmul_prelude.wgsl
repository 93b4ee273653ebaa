// Shared by every matmul kernel (#include matmul_prelude): params, the bindings other than
// x (binding 2, scalar or vec4 by kernel) and the weight (binding 3, declared by the weight format's
// prelude), and the fused epilogue.
// y[r, outOffset + o] (+)= sum_k x[r, k] * W[o, k] (+ b[o]), optionally gated (gated 1: SwiGLU,
// 2: GeGLU with tanh GELU) or soft-capped (softcap c > 0: y = c * tanh(y / c), Gemma's final logits).
struct Params { K: u32, outRows: u32, outStride: u32, outOffset: u32, hasBias: u32, accumulate: u32, gated: u32, softcap: f32 }
struct Count { n: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<uniform> count: Count;
@group(0) @binding(4) var<storage, read> b: array<f32>;        // [outRows] (dummy when hasBias = 0)
@group(0) @binding(5) var<storage, read_write> y: array<f32>;  // [n, outStride]
@group(0) @binding(6) var<storage, read> g: array<f32>;        // [n, outStride] gate (dummy when gated = 0)

// gelu(x) with tanh: 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) (gelu_pytorch_tanh)
fn geluTanh(x: f32) -> f32 {
  let u = 0.7978845608028654 * (x + 0.044715 * x * x * x);
  return 0.5 * x * (1.0 + tanh(clamp(u, -15.0, 15.0)));
}

// Writes output o of row r from its dot product `acc`: bias, residual add, gate, soft-cap as the params say.
fn store(r: u32, o: u32, acc: f32) {
  var v = acc;
  if (p.hasBias != 0u) { v += b[o]; }
  let yi = r * p.outStride + p.outOffset + o;
  if (p.accumulate != 0u) { v += y[yi]; } // residual add folded in: y += W x
  if (p.gated == 1u) { v = g[yi] / (1.0 + exp(-g[yi])) * v; } // SwiGLU: silu(gate) * up
  if (p.gated == 2u) { v = geluTanh(g[yi]) * v; } // GeGLU: gelu_tanh(gate) * up
  if (p.softcap > 0.0) { v = p.softcap * tanh(clamp(v / p.softcap, -15.0, 15.0)); }
  y[yi] = v;
}
