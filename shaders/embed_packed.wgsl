// Row gather from a 16-bit table (BF16 or F16) packed two per u32 along each row:
// out[r, :] = table[idx[r] - rowStart, :] (widened to f32, exactly) for idx[r] in
// [rowStart, rowStart + rowCount). The token embedding when the checkpoint is 16-bit; same
// params and dispatch as embed.wgsl (one output value per thread).
#include embed_prelude
#include packed16_prelude
@group(0) @binding(3) var<storage, read> table: array<u32>;     // [rowCount, ceil(dim/2)]

@compute @workgroup_size(WG)
fn gather(@builtin(global_invocation_id) gid: vec3<u32>) {
  let row = tableRow(gid);
  if (row == NO_ROW) { return; }
  let j = gid.x;
  let r = gid.y;
  let word = table[row * ((p.dim + 1u) / 2u) + j / 2u];
  let v = unpack2(word);
  out[r * p.dim + j] = select(v.x, v.y, (j & 1u) == 1u) * p.scale;
}
