// Row gather from a 16-bit table (BF16 or F16) packed two per u32 along each row:
// out[r, :] = table[idx[r] - rowStart, :] (widened to f32, exactly) for idx[r] in
// [rowStart, rowStart + rowCount). The token embedding when the checkpoint is 16-bit; same
// params and dispatch as embed.wgsl (one output value per thread).
struct Params { dim: u32, rowStart: u32, rowCount: u32, _pad: u32 }
struct Count { n: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<uniform> count: Count;
@group(0) @binding(2) var<storage, read> idx: array<u32>;       // [n]
@group(0) @binding(3) var<storage, read> table: array<u32>;     // [rowCount, ceil(dim/2)]
@group(0) @binding(4) var<storage, read_write> out: array<f32>; // [n, dim]

override WG: u32 = 64;
override BF16: u32 = 1;  // 1: bfloat16, 0: IEEE half

@compute @workgroup_size(WG)
fn gather(@builtin(global_invocation_id) gid: vec3<u32>) {
  let j = gid.x;
  let r = gid.y;
  if (r >= count.n || j >= p.dim) { return; }
  let id = idx[r];
  if (id < p.rowStart || id >= p.rowStart + p.rowCount) { return; }
  let word = table[(id - p.rowStart) * ((p.dim + 1u) / 2u) + j / 2u];
  let bits = select(word & 0xffffu, word >> 16u, (j & 1u) == 1u);
  if (BF16 != 0u) {
    out[r * p.dim + j] = bitcast<f32>(bits << 16u);
  } else {
    out[r * p.dim + j] = unpack2x16float(bits).x;
  }
}
