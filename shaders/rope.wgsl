// RoPE, Hugging Face rotate-half convention, in place on two tensors in one dispatch (queries and
// keys): x [n, rowStride] holding nHeads heads of headDim at the start of each row, and x2
// [n, rowStride2] holding nHeads2 heads (nHeads2 = 0: x alone). Row r is rotated by angle
// pos[r] * theta_i, theta_i = base^(-2i/headDim); cos/sin come from a host-computed table so large
// positions stay exact. A negative pos rotates back (used to shift cached keys: R(new) = R(new - old) R(old)).
// rope_kv (decode and prefill's hot path): x2 holds the keys; they are rotated into the KV cache
// kc[pos[r]] instead of in place, and the values v are copied to vc[pos[r]] in the same dispatch.
// rope_kv16: the same into an f16 cache (kc16/vc16, halves packed two per u32 as pack2x16float): the
// thread of an even pair i writes pairs i and i + 1 (one word per half-row); needs headDim % 4 == 0.
// rope_kv8: the same into a q8 cache (kc16/vc16 hold q8 groups, q8_prelude.wgsl): threads past the
// queries' pairs each rotate and quantize one group of Q8_GROUP values (q8GroupFor(headDim)) of the
// key row and one of the value row (K is quantized after RoPE); needs rowStride2 == nHeads2 * headDim.
// x's (the queries') pairs i < qScalePairs are also multiplied by qScale (longrope's attention factor
// squared on the rotated pairs; else 1).
struct Params { nHeads: u32, headDim: u32, rowStride: u32, nHeads2: u32, rowStride2: u32, qScale: f32, qScalePairs: u32, _p2: u32 }
struct Count { n: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<uniform> count: Count;
@group(0) @binding(2) var<storage, read> pos: array<i32>;         // [n]
@group(0) @binding(3) var<storage, read> cs: array<vec2<f32>>;    // [maxPos, headDim/2] (cos, sin)
@group(0) @binding(4) var<storage, read_write> x: array<f32>;     // [n, rowStride]
@group(0) @binding(5) var<storage, read_write> x2: array<f32>;    // [n, rowStride2] (dummy when nHeads2 = 0)
@group(0) @binding(6) var<storage, read> v: array<f32>;           // [n, rowStride2] (rope_kv)
@group(0) @binding(7) var<storage, read_write> kc: array<f32>;    // [ctx, rowStride2] (rope_kv)
@group(0) @binding(8) var<storage, read_write> vc: array<f32>;    // [ctx, rowStride2] (rope_kv)
@group(0) @binding(9) var<storage, read_write> kc16: array<u32>;  // [ctx, rowStride2 / 2] (rope_kv16) | [ctx, rowStride2 / Q8_GROUP, Q8_WORDS] (rope_kv8)
@group(0) @binding(10) var<storage, read_write> vc16: array<u32>; // [ctx, rowStride2 / 2] (rope_kv16) | [ctx, rowStride2 / Q8_GROUP, Q8_WORDS] (rope_kv8)

#include q8_prelude

override WG: u32 = 64;

// Thread gid.x of row gid.y: head h (< nHeads: x, else x2) and pair i; angle (cos, sin) at pos[r].
struct Pair { ok: bool, r: u32, h: u32, i: u32, half: u32, cs: vec2<f32> }

fn pair(gid: vec3<u32>) -> Pair {
  let half = p.headDim / 2u;
  let r = gid.y;
  if (r >= count.n || gid.x >= (p.nHeads + p.nHeads2) * half) { return Pair(false, 0u, 0u, 0u, half, vec2<f32>(0.0)); }
  let i = gid.x % half;
  return Pair(true, r, gid.x / half, i, half, angle(r, i, half));
}

// (cos, sin) of pair i at pos[r]
fn angle(r: u32, i: u32, half: u32) -> vec2<f32> {
  let ps = pos[r];
  let t = cs[u32(abs(ps)) * half + i];
  return vec2<f32>(t.x, select(t.y, -t.y, ps < 0));
}

// (a, b) rotated: (a cos - b sin, b cos + a sin)
fn rot(a: f32, b: f32, t: vec2<f32>) -> vec2<f32> {
  return vec2<f32>(a * t.x - b * t.y, b * t.x + a * t.y);
}

// x's head q.h, pair q.i, rotated (and scaled) in place
fn ropeX(q: Pair) {
  let base = q.r * p.rowStride + q.h * p.headDim + q.i;
  let y = rot(x[base], x[base + q.half], q.cs) * select(1.0, p.qScale, q.i < p.qScalePairs);
  x[base] = y.x;
  x[base + q.half] = y.y;
}

@compute @workgroup_size(WG)
fn rope(@builtin(global_invocation_id) gid: vec3<u32>) {
  let q = pair(gid);
  if (!q.ok) { return; }
  if (q.h < p.nHeads) {
    ropeX(q);
  } else {
    let base = q.r * p.rowStride2 + (q.h - p.nHeads) * p.headDim + q.i;
    let y = rot(x2[base], x2[base + q.half], q.cs);
    x2[base] = y.x;
    x2[base + q.half] = y.y;
  }
}

@compute @workgroup_size(WG)
fn rope_kv(@builtin(global_invocation_id) gid: vec3<u32>) {
  let q = pair(gid);
  if (!q.ok) { return; }
  if (q.h < p.nHeads) {
    ropeX(q);
  } else {
    let off = (q.h - p.nHeads) * p.headDim + q.i;
    let src = q.r * p.rowStride2 + off;
    let dst = u32(pos[q.r]) * p.rowStride2 + off;
    let y = rot(x2[src], x2[src + q.half], q.cs);
    kc[dst] = y.x;
    kc[dst + q.half] = y.y;
    vc[dst] = v[src];
    vc[dst + q.half] = v[src + q.half];
  }
}

@compute @workgroup_size(WG)
fn rope_kv16(@builtin(global_invocation_id) gid: vec3<u32>) {
  let q = pair(gid);
  if (!q.ok) { return; }
  if (q.h < p.nHeads) {
    ropeX(q);
    return;
  }
  if ((q.i & 1u) != 0u) { return; } // written by the thread of pair i - 1
  let off = (q.h - p.nHeads) * p.headDim + q.i;
  let src = q.r * p.rowStride2 + off;
  let dst = (u32(pos[q.r]) * p.rowStride2 + off) / 2u; // word of elements off, off + 1
  let hw = q.half / 2u; // words per half-head
  let y0 = rot(x2[src], x2[src + q.half], q.cs);
  let y1 = rot(x2[src + 1u], x2[src + 1u + q.half], angle(q.r, q.i + 1u, q.half));
  kc16[dst] = pack2x16float(vec2<f32>(y0.x, y1.x));
  kc16[dst + hw] = pack2x16float(vec2<f32>(y0.y, y1.y));
  vc16[dst] = pack2x16float(vec2<f32>(v[src], v[src + 1u]));
  vc16[dst + hw] = pack2x16float(vec2<f32>(v[src + q.half], v[src + q.half + 1u]));
}

@compute @workgroup_size(WG)
fn rope_kv8(@builtin(global_invocation_id) gid: vec3<u32>) {
  let q = pair(gid);
  if (!q.ok) { return; }
  if (q.h < p.nHeads) {
    ropeX(q);
    return;
  }
  let g = gid.x - p.nHeads * q.half; // group of the key / value row (the dispatch covers rowStride2 / 2 >= groups)
  if (g >= p.rowStride2 / Q8_GROUP) { return; }
  let src = q.r * p.rowStride2 + g * Q8_GROUP;
  var kx: array<f32, Q8_GROUP>; // the group's rotated keys
  var vx: array<f32, Q8_GROUP>;
  var ka = 0.0;
  var va = 0.0;
  for (var t = 0u; t < Q8_GROUP; t++) {
    let e = g * Q8_GROUP + t; // element of the row
    let d = e % p.headDim;
    let i = d % q.half; // rotation pair
    let hb = q.r * p.rowStride2 + e - d; // the head's first element
    let y = rot(x2[hb + i], x2[hb + i + q.half], angle(q.r, i, q.half));
    kx[t] = select(y.x, y.y, d >= q.half);
    vx[t] = v[src + t];
    ka = max(ka, abs(kx[t]));
    va = max(va, abs(vx[t]));
  }
  let ks = q8Scale(ka);
  let vs = q8Scale(va);
  let dst = (u32(pos[q.r]) * (p.rowStride2 / Q8_GROUP) + g) * Q8_WORDS;
  for (var w = 0u; w + 1u < Q8_WORDS; w++) {
    kc16[dst + w] = q8Word(&kx, w, q8Inv(ks));
    vc16[dst + w] = q8Word(&vx, w, q8Inv(vs));
  }
  kc16[dst + Q8_WORDS - 1u] = bitcast<u32>(ks);
  vc16[dst + Q8_WORDS - 1u] = bitcast<u32>(vs);
}
