// Row gather: out[r, :] = table[idx[r] - rowStart, :] for idx[r] in [rowStart, rowStart + rowCount).
// Used for token embedding (table [V, D], possibly split in row parts) and for picking rows of a
// hidden-state matrix (e.g. the rows that need logits).
struct Params { dim: u32, rowStart: u32, rowCount: u32, _pad: u32 }
struct Count { n: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<uniform> count: Count;
@group(0) @binding(2) var<storage, read> idx: array<u32>;      // [n]
@group(0) @binding(3) var<storage, read> table: array<f32>;    // [rowCount, dim]
@group(0) @binding(4) var<storage, read_write> out: array<f32>; // [n, dim]

override WG: u32 = 64;

@compute @workgroup_size(WG)
fn gather(@builtin(global_invocation_id) gid: vec3<u32>) {
  let j = gid.x;
  let r = gid.y;
  if (r >= count.n || j >= p.dim) { return; }
  let id = idx[r];
  if (id < p.rowStart || id >= p.rowStart + p.rowCount) { return; }
  out[r * p.dim + j] = table[(id - p.rowStart) * p.dim + j];
}
