// Row gather: out[r, :] = table[idx[r] - rowStart, :] for idx[r] in [rowStart, rowStart + rowCount).
// Used for token embedding (table [V, D], possibly split in row parts) and for picking rows of a
// hidden-state matrix (e.g. the rows that need logits).
#include embed_prelude
@group(0) @binding(3) var<storage, read> table: array<f32>;    // [rowCount, dim]

@compute @workgroup_size(WG)
fn gather(@builtin(global_invocation_id) gid: vec3<u32>) {
  let row = tableRow(gid);
  if (row == NO_ROW) { return; }
  out[gid.y * p.dim + gid.x] = table[row * p.dim + gid.x] * p.scale;
}
