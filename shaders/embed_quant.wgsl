// Row gather from a group-quantized table (quant_prelude): out[r, :] = table[idx[r] - rowStart, :]
// dequantized to f32, for idx[r] in [rowStart, rowStart + rowCount). The token embedding of a
// quantized model; same params and dispatch as embed.wgsl (one output value per thread).
#include embed_prelude
#include quant_prelude

@compute @workgroup_size(WG)
fn gather(@builtin(global_invocation_id) gid: vec3<u32>) {
  let row = tableRow(gid);
  if (row == NO_ROW) { return; }
  let L = qlayout(p.rowCount, p.dim);
  out[gid.y * p.dim + gid.x] = qvalue(L, row * L.groups + gid.x / 32u, gid.x % 32u) * p.scale;
}
