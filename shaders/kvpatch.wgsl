// KV patch: copy reused rows of a cached entry into the live cache at their new positions,
// re-rotating keys by the position shift (RoPE composes: R(new) = R(new - old) R(old)).
//   kc[dst[i], :] = rotate(ksrc[src[i], :], dst[i] - old[i]),  vc[dst[i], :] = vsrc[src[i], :]
// One invocation per (row, kv head, rotation pair i < headDim/2).
// Invariant (checked on the host, src/engine/patch-bounds.ts, not here): every rowmap row has
// 0 <= old, dst < maxPos = contextLength, so the table row |dst - old| < maxPos and dst < ctx;
// src < T of the bound entry. Entries are validated at ingest so that this holds.
// patch_rows16: the same between f16 buffers (halves packed two per u32, as pack2x16float): the
// thread of an even pair i rotates pairs i and i + 1 in f32 and stores one word per half-row; V words
// are copied as they are. Needs headDim % 4 == 0. A shift of 0 stores each key exactly as it was.
struct Params { nKvHeads: u32, headDim: u32, _p0: u32, _p1: u32 }
struct Count { n: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<uniform> count: Count;
@group(0) @binding(2) var<storage, read> rowmap: array<vec4<i32>>;  // [n] (src row, dst position, old position, unused)
@group(0) @binding(3) var<storage, read> cs: array<vec2<f32>>;      // [maxPos, headDim/2] (cos, sin)
@group(0) @binding(4) var<storage, read> ksrc: array<f32>;          // [T, kvDim] keys rotated at old positions
@group(0) @binding(5) var<storage, read> vsrc: array<f32>;          // [T, kvDim]
@group(0) @binding(6) var<storage, read_write> kc: array<f32>;      // [ctx, kvDim]
@group(0) @binding(7) var<storage, read_write> vc: array<f32>;      // [ctx, kvDim]
@group(0) @binding(8) var<storage, read> ksrc16: array<u32>;        // [T, kvDim / 2] (patch_rows16)
@group(0) @binding(9) var<storage, read> vsrc16: array<u32>;        // [T, kvDim / 2] (patch_rows16)
@group(0) @binding(10) var<storage, read_write> kc16: array<u32>;   // [ctx, kvDim / 2] (patch_rows16)
@group(0) @binding(11) var<storage, read_write> vc16: array<u32>;   // [ctx, kvDim / 2] (patch_rows16)

override WG: u32 = 64;

@compute @workgroup_size(WG)
fn patch_rows(@builtin(global_invocation_id) gid: vec3<u32>) {
  let half = p.headDim / 2u;
  let r = gid.y;
  if (r >= count.n || gid.x >= p.nKvHeads * half) { return; }
  let h = gid.x / half;
  let i = gid.x % half;
  let m = rowmap[r];
  let kvDim = p.nKvHeads * p.headDim;
  let shift = m.y - m.z;
  let t = cs[u32(abs(shift)) * half + i];
  let s = select(t.y, -t.y, shift < 0);
  let src = u32(m.x) * kvDim + h * p.headDim;
  let dst = u32(m.y) * kvDim + h * p.headDim;
  let a = ksrc[src + i];
  let b = ksrc[src + i + half];
  kc[dst + i] = a * t.x - b * s;
  kc[dst + i + half] = b * t.x + a * s;
  vc[dst + i] = vsrc[src + i];
  vc[dst + i + half] = vsrc[src + i + half];
}

@compute @workgroup_size(WG)
fn patch_rows16(@builtin(global_invocation_id) gid: vec3<u32>) {
  let half = p.headDim / 2u;
  let r = gid.y;
  if (r >= count.n || gid.x >= p.nKvHeads * half) { return; }
  let h = gid.x / half;
  let i = gid.x % half;
  if ((i & 1u) != 0u) { return; } // written by the thread of pair i - 1
  let m = rowmap[r];
  let kvDim = p.nKvHeads * p.headDim;
  let shift = m.y - m.z;
  let t0 = cs[u32(abs(shift)) * half + i];
  let t1 = cs[u32(abs(shift)) * half + i + 1u];
  let c = vec2<f32>(t0.x, t1.x);
  let s = vec2<f32>(t0.y, t1.y) * select(1.0, -1.0, shift < 0);
  let hw = half / 2u; // words per half-head
  let src = (u32(m.x) * kvDim + h * p.headDim + i) / 2u;
  let dst = (u32(m.y) * kvDim + h * p.headDim + i) / 2u;
  let a = unpack2x16float(ksrc16[src]); // elements i, i + 1
  let b = unpack2x16float(ksrc16[src + hw]); // elements i + half, i + 1 + half
  kc16[dst] = pack2x16float(a * c - b * s);
  kc16[dst + hw] = pack2x16float(b * c + a * s);
  vc16[dst] = vsrc16[src];
  vc16[dst + hw] = vsrc16[src + hw];
}
