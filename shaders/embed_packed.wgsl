// Row gather from a 16-bit table (BF16 or F16) packed two per u32 along each row:
// out[r, :] = table[idx[r] - rowStart, :] (widened to f32, exactly) for idx[r] in
// [rowStart, rowStart + rowCount). The token embedding when the checkpoint is 16-bit; same
// params and dispatch as embed.wgsl (one output value per thread).
#include embed_prelude
@group(0) @binding(3) var<storage, read> table: array<u32>;     // [rowCount, ceil(dim/2)]

override BF16: u32 = 1;  // 1: bfloat16, 0: IEEE half

@compute @workgroup_size(WG)
fn gather(@builtin(global_invocation_id) gid: vec3<u32>) {
  let row = tableRow(gid);
  if (row == NO_ROW) { return; }
  let j = gid.x;
  let r = gid.y;
  let word = table[row * ((p.dim + 1u) / 2u) + j / 2u];
  let bits = select(word & 0xffffu, word >> 16u, (j & 1u) == 1u);
  if (BF16 != 0u) {
    out[r * p.dim + j] = bitcast<f32>(bits << 16u);
  } else {
    out[r * p.dim + j] = unpack2x16float(bits).x;
  }
}
