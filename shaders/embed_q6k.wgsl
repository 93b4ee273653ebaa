// Row gather from a Q6_K table (q6k_prelude): out[r, :] = table[idx[r] - rowStart, :] dequantized
// to f32, for idx[r] in [rowStart, rowStart + rowCount). Same params and dispatch as embed.wgsl.
#include embed_prelude
#include q6k_prelude

@compute @workgroup_size(WG)
fn gather(@builtin(global_invocation_id) gid: vec3<u32>) {
  let row = tableRow(gid);
  if (row == NO_ROW) { return; }
  out[gid.y * p.dim + gid.x] = q6value(q6layout(p.rowCount, p.dim), row, gid.x) * p.scale;
}
