// Row gather from a group-quantized table (quant_prelude): out[r, :] = table[idx[r] - rowStart, :]
// dequantized to f32, for idx[r] in [rowStart, rowStart + rowCount). The token embedding of a
// quantized model; same params and dispatch as embed.wgsl (one output value per thread).
struct Params { dim: u32, rowStart: u32, rowCount: u32, _pad: u32 }
struct Count { n: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<uniform> count: Count;
@group(0) @binding(2) var<storage, read> idx: array<u32>;       // [n]
@group(0) @binding(4) var<storage, read_write> out: array<f32>; // [n, dim]
#include quant_prelude

override WG: u32 = 64;

@compute @workgroup_size(WG)
fn gather(@builtin(global_invocation_id) gid: vec3<u32>) {
  let j = gid.x;
  let r = gid.y;
  if (r >= count.n || j >= p.dim) { return; }
  let id = idx[r];
  if (id < p.rowStart || id >= p.rowStart + p.rowCount) { return; }
  let L = qlayout(p.rowCount, p.dim);
  out[r * p.dim + j] = qvalue(L, (id - p.rowStart) * L.groups + j / 32u, j % 32u);
}
