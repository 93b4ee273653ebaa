// Shared by the row-gather kernels (#include embed_prelude): params, the bindings other than the
// table (binding 3, declared by each kernel in its format), and which table row a thread reads.
// out[r, j] = table[idx[r] - rowStart, j] * scale for idx[r] in [rowStart, rowStart + rowCount) (scale:
// 1, or Gemma's sqrt(hidden)); one output value per thread (gid.x = j, gid.y = r); rows whose id lies
// in another part are left as they are.
struct Params { dim: u32, rowStart: u32, rowCount: u32, scale: f32 }
struct Count { n: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<uniform> count: Count;
@group(0) @binding(2) var<storage, read> idx: array<u32>;       // [n]
@group(0) @binding(4) var<storage, read_write> out: array<f32>; // [n, dim]

override WG: u32 = 64;
const NO_ROW: u32 = 0xffffffffu;

// The table row (within this part) thread gid reads for out[gid.y, gid.x], or NO_ROW when none.
fn tableRow(gid: vec3<u32>) -> u32 {
  if (gid.y >= count.n || gid.x >= p.dim) { return NO_ROW; }
  let id = idx[gid.y];
  if (id < p.rowStart || id >= p.rowStart + p.rowCount) { return NO_ROW; }
  return id - p.rowStart;
}
