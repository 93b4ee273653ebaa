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
// patch_rows8: the same between q8 buffers (q8_prelude.wgsl), one thread per (row, group of Q8_GROUP
// values of the K/V row): each key of the group is rotated in f32 from its source pair (read through the
// source groups' scales), and the group re-quantized; a shift of 0 and the values copy the group's
// words as they are. The group divides headDim (q8GroupFor).
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
@group(0) @binding(8) var<storage, read> ksrc16: array<u32>;        // [T, kvDim / 2] (patch_rows16) | [T, kvDim / Q8_GROUP, Q8_WORDS] (patch_rows8)
@group(0) @binding(9) var<storage, read> vsrc16: array<u32>;        // [T, kvDim / 2] (patch_rows16) | [T, kvDim / Q8_GROUP, Q8_WORDS] (patch_rows8)
@group(0) @binding(10) var<storage, read_write> kc16: array<u32>;   // [ctx, kvDim / 2] (patch_rows16) | [ctx, kvDim / Q8_GROUP, Q8_WORDS] (patch_rows8)
@group(0) @binding(11) var<storage, read_write> vc16: array<u32>;   // [ctx, kvDim / 2] (patch_rows16) | [ctx, kvDim / Q8_GROUP, Q8_WORDS] (patch_rows8)

#include q8_prelude

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

// element e of q8 source row `row` ([T, kvDim] values)
fn ksrc8At(row: u32, e: u32, groups: u32) -> f32 {
  let gw = (row * groups + e / Q8_GROUP) * Q8_WORDS;
  let t = e % Q8_GROUP;
  return q8CodeOf(ksrc16[gw + t / 4u], t % 4u) * bitcast<f32>(ksrc16[gw + Q8_WORDS - 1u]);
}

@compute @workgroup_size(WG)
fn patch_rows8(@builtin(global_invocation_id) gid: vec3<u32>) {
  let half = p.headDim / 2u;
  let kvDim = p.nKvHeads * p.headDim;
  let groups = kvDim / Q8_GROUP;
  let g = gid.x;
  let r = gid.y;
  if (r >= count.n || g >= groups) { return; }
  let m = rowmap[r];
  let shift = m.y - m.z;
  let src = (u32(m.x) * groups + g) * Q8_WORDS;
  let dst = (u32(m.y) * groups + g) * Q8_WORDS;
  for (var w = 0u; w < Q8_WORDS; w++) { vc16[dst + w] = vsrc16[src + w]; }
  if (shift == 0) {
    for (var w = 0u; w < Q8_WORDS; w++) { kc16[dst + w] = ksrc16[src + w]; }
    return;
  }
  var kx: array<f32, Q8_GROUP>;
  var amax = 0.0;
  for (var t = 0u; t < Q8_GROUP; t++) {
    let e = g * Q8_GROUP + t;
    let d = e % p.headDim;
    let i = d % half;
    let hb = e - d;
    let c = cs[u32(abs(shift)) * half + i];
    let s = select(c.y, -c.y, shift < 0);
    let a = ksrc8At(u32(m.x), hb + i, groups);
    let b = ksrc8At(u32(m.x), hb + i + half, groups);
    kx[t] = select(a * c.x - b * s, b * c.x + a * s, d >= half);
    amax = max(amax, abs(kx[t]));
  }
  let ks = q8Scale(amax);
  for (var w = 0u; w + 1u < Q8_WORDS; w++) { kc16[dst + w] = q8Word(&kx, w, q8Inv(ks)); }
  kc16[dst + Q8_WORDS - 1u] = bitcast<u32>(ks);
}
