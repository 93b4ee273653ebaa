// Scatter freshly computed rows into the per-layer KV cache at their positions:
//   kc[pos[r], :] = k[r, :],  vc[pos[r], :] = v[r, :]
// scatter16: the same into an f16 cache (kc16/vc16: halves packed two per u32, as pack2x16float),
// one thread per word (two values); kvDim is even.
// scatter8: the same into a q8 cache (q8_prelude.wgsl), one thread per group of Q8_GROUP values of a
// row (K and V); kvDim % Q8_GROUP == 0.
struct Params { kvDim: u32, _p0: u32, _p1: u32, _p2: u32 }
struct Count { n: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<uniform> count: Count;
@group(0) @binding(2) var<storage, read> pos: array<i32>;          // [n]
@group(0) @binding(3) var<storage, read> k: array<f32>;            // [n, kvDim]
@group(0) @binding(4) var<storage, read> v: array<f32>;            // [n, kvDim]
@group(0) @binding(5) var<storage, read_write> kc: array<f32>;     // [ctx, kvDim]
@group(0) @binding(6) var<storage, read_write> vc: array<f32>;     // [ctx, kvDim]
@group(0) @binding(7) var<storage, read_write> kc16: array<u32>;   // [ctx, kvDim / 2] (scatter16) | [ctx, kvDim / Q8_GROUP, Q8_WORDS] (scatter8)
@group(0) @binding(8) var<storage, read_write> vc16: array<u32>;   // [ctx, kvDim / 2] (scatter16) | [ctx, kvDim / Q8_GROUP, Q8_WORDS] (scatter8)

#include q8_prelude

override WG: u32 = 64;

@compute @workgroup_size(WG)
fn scatter(@builtin(global_invocation_id) gid: vec3<u32>) {
  let j = gid.x;
  let r = gid.y;
  if (r >= count.n || j >= p.kvDim) { return; }
  let dst = u32(pos[r]) * p.kvDim + j;
  kc[dst] = k[r * p.kvDim + j];
  vc[dst] = v[r * p.kvDim + j];
}

@compute @workgroup_size(WG)
fn scatter16(@builtin(global_invocation_id) gid: vec3<u32>) {
  let w = gid.x; // elements 2w, 2w + 1 of the row
  let r = gid.y;
  let words = p.kvDim / 2u;
  if (r >= count.n || w >= words) { return; }
  let src = r * p.kvDim + 2u * w;
  let dst = u32(pos[r]) * words + w;
  kc16[dst] = pack2x16float(vec2<f32>(k[src], k[src + 1u]));
  vc16[dst] = pack2x16float(vec2<f32>(v[src], v[src + 1u]));
}

@compute @workgroup_size(WG)
fn scatter8(@builtin(global_invocation_id) gid: vec3<u32>) {
  let g = gid.x; // elements g Q8_GROUP .. (g + 1) Q8_GROUP - 1 of the row
  let r = gid.y;
  let groups = p.kvDim / Q8_GROUP;
  if (r >= count.n || g >= groups) { return; }
  let src = r * p.kvDim + g * Q8_GROUP;
  var kx: array<f32, Q8_GROUP>;
  var vx: array<f32, Q8_GROUP>;
  var ka = 0.0;
  var va = 0.0;
  for (var t = 0u; t < Q8_GROUP; t++) {
    kx[t] = k[src + t];
    vx[t] = v[src + t];
    ka = max(ka, abs(kx[t]));
    va = max(va, abs(vx[t]));
  }
  let ks = q8Scale(ka);
  let vs = q8Scale(va);
  let dst = (u32(pos[r]) * groups + g) * Q8_WORDS;
  for (var w = 0u; w + 1u < Q8_WORDS; w++) {
    kc16[dst + w] = q8Word(&kx, w, q8Inv(ks));
    vc16[dst + w] = q8Word(&vx, w, q8Inv(vs));
  }
  kc16[dst + Q8_WORDS - 1u] = bitcast<u32>(ks);
  vc16[dst + Q8_WORDS - 1u] = bitcast<u32>(vs);
}
