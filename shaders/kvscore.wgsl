// Deviation-based token selection (docs/DESIGN.md, Select).
//   deviation: dev[pos[r]] = sum_j |round(v[r, j]) - vc[pos[r], j]|  (fresh layer-1 V, rounded as the
//              cache stores it (q8: in its groups of Q8_GROUP), vs the cached, patched V; the cache read
//              through kv_f32.wgsl)
//   score:     score[j]    = mean_h probs[h, j] * dev[j]       (j < n; alpha_j from the probe query's attention)
#include kv_f32
struct Params { kvDim: u32, nHeads: u32, ctx: u32, _p0: u32 }
struct Count { n: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<uniform> count: Count;
@group(0) @binding(2) var<storage, read> pos: array<i32>;          // [n] (deviation)
@group(0) @binding(3) var<storage, read> a: array<f32>;            // v [n, kvDim]    | probs [nHeads, ctx]
@group(0) @binding(4) var<storage, read> b: array<f32>;            // (score) dev [ctx]
@group(0) @binding(5) var<storage, read_write> out: array<f32>;    // dev [ctx]       | score [n]
@group(0) @binding(6) var<storage, read> vc: array<KVWord>;        // (deviation) [ctx, kvDim] (kvIndex)

const WG: u32 = 64u;
var<workgroup> red: array<f32, WG>;

@compute @workgroup_size(WG)
fn deviation(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let r = wid.x;
  if (r >= count.n) { return; }
  let ps = u32(pos[r]);
  var s = 0.0;
  for (var j0 = lid.x * KV_GROUP; j0 < p.kvDim; j0 += WG * KV_GROUP) { // one rounding group
    let x = r * p.kvDim + j0;
    var amax = 0.0;
    for (var t = 0u; t < KV_GROUP; t++) { amax = max(amax, abs(a[x + t])); }
    for (var t = 0u; t < KV_GROUP; t++) {
      let c = ps * p.kvDim + j0 + t;
      s += abs(kvRound(a[x + t], amax) - kvElem(vc[kvIndex(c)], c) * kvScale(vc[kvScaleIndex(c)]));
    }
  }
  red[lid.x] = s;
  workgroupBarrier();
  for (var st = WG / 2u; st > 0u; st /= 2u) {
    if (lid.x < st) { red[lid.x] += red[lid.x + st]; }
    workgroupBarrier();
  }
  if (lid.x == 0u) { out[ps] = red[0]; }
}

@compute @workgroup_size(WG)
fn score(@builtin(global_invocation_id) gid: vec3<u32>) {
  let j = gid.x;
  if (j >= count.n) { return; }
  var alpha = 0.0;
  for (var h = 0u; h < p.nHeads; h++) { alpha += a[h * p.ctx + j]; }
  out[j] = alpha / f32(p.nHeads) * b[j];
}
