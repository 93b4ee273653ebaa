// Flash-decoding attention (grouped-query, causal by position), in two passes:
//   split:   workgroup (h, s, r) walks the chunks c = s, s + S, s + 2S, ... of WG cache positions
//            below len = pos[r] + 1 with an online softmax and leaves, per (r, h, s), the running
//            max m, the sum l of exp(score - m) and acc[d] = sum exp(score - m) * V[p, d].
//   combine: out[r, h, d] = sum_s exp(m_s - M) acc_s[d] / sum_s exp(m_s - M) l_s, M = max_s m_s.
// S (splits per (row, head)) comes from the host as `splits.n` (grid y of split); any S >= 1 gives
// the same result, S only sets the parallelism. With S = 1, split writes out itself (no combine). The weights are not kept: KVShare's deviation probe
// has its own kernel (attention.wgsl). Decode on GPUs; software adapters take attention_thread.wgsl (no barrier).
// The cache's storage (f32, f16 or q8) is read through kv_access.wgsl: a position's keys four at a
// time where headDim % 4 == 0, V one value per thread (threads own dims).
// Sliding window and soft-capping: attention_mask.wgsl (the chunks start at the window's first position).
#include kv_f32
struct Params { nHeads: u32, nKvHeads: u32, headDim: u32, maxSplits: u32, scale: f32, window: u32, softcap: f32, _p2: u32 }
struct Count { n: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<uniform> count: Count;                  // rows n
@group(0) @binding(2) var<uniform> splits: Count;                 // S
@group(0) @binding(3) var<storage, read> pos: array<i32>;         // [n]
@group(0) @binding(4) var<storage, read> q: array<f32>;           // [n, nHeads * headDim]   (split)
@group(0) @binding(5) var<storage, read> kc: array<KVWord4>;      // [ctx, nKvHeads * headDim] (split; kvIndex4)
@group(0) @binding(6) var<storage, read> vc: array<KVWord4>;      // [ctx, nKvHeads * headDim] (split; kvIndex4)
@group(0) @binding(7) var<storage, read_write> part: array<f32>;  // [maxRows, nHeads, maxSplits, headDim + 2]
@group(0) @binding(8) var<storage, read_write> out: array<f32>;   // [n, nHeads * headDim]
#include attention_mask
#include kv_access

const WG: u32 = 64u;     // cache positions per chunk, threads per workgroup
const MAX_HD: u32 = 256u; // headDim <= MAX_HD: each thread owns dims t, t + WG, ... (at most 4)
var<workgroup> qs: array<f32, MAX_HD>; // q[r, h, :] * scale
var<workgroup> es: array<f32, WG>;     // exp(score - m) of the chunk's positions
var<workgroup> red: array<f32, WG>;

fn reduce(v: f32, t: u32, isMax: bool) -> f32 {
  red[t] = v;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s /= 2u) {
    if (t < s) { red[t] = select(red[t] + red[t + s], max(red[t], red[t + s]), isMax); }
    workgroupBarrier();
  }
  let m = red[0];
  workgroupBarrier();
  return m;
}

fn partBase(r: u32, h: u32, s: u32) -> u32 {
  return ((r * p.nHeads + h) * p.maxSplits + s) * (p.headDim + 2u);
}

@compute @workgroup_size(WG)
fn split(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let h = wid.x;
  let sIdx = wid.y;
  let r = wid.z;
  if (r >= count.n || sIdx >= splits.n) { return; }
  let t = lid.x;
  let hd = p.headDim;
  let len = u32(pos[r]) + 1u;
  let lo = firstPos(len);
  let kvDim = p.nKvHeads * hd;
  let koff = (h / (p.nHeads / p.nKvHeads)) * hd;
  let qb = (r * p.nHeads + h) * hd;
  for (var d = t; d < hd; d += WG) { qs[d] = q[qb + d] * p.scale; }
  workgroupBarrier();

  var m = -3.4e38;
  var l = 0.0;
  var acc = vec4<f32>(0.0); // dims t, t + WG, t + 2 WG, t + 3 WG
  for (var c = sIdx; lo + c * WG < len; c += splits.n) {
    let j0 = lo + c * WG;
    let j = j0 + t;
    var sc = -3.4e38;
    if (j < len) {
      sc = 0.0;
      let kb = j * kvDim + koff;
      if (hd % 4u == 0u) {
        for (var d = 0u; d < hd; d += 4u) {
          sc += dot(vec4<f32>(qs[d], qs[d + 1u], qs[d + 2u], qs[d + 3u]), k4At((kb + d) / 4u));
        }
      } else {
        for (var d = 0u; d < hd; d++) { sc += qs[d] * kAt(kb + d); }
      }
      sc = capScore(sc);
    }
    let mNew = max(m, reduce(sc, t, true));
    var e = 0.0;
    if (j < len) { e = exp(sc - mNew); }
    es[t] = e;
    let corr = exp(m - mNew);
    l = l * corr + reduce(e, t, false); // the reduce's barriers also publish es
    acc *= corr;
    let cnt = min(WG, len - j0);
    for (var i = 0u; i < 4u; i++) {
      let d = t + i * WG;
      if (d < hd) {
        var a = 0.0;
        for (var jj = 0u; jj < cnt; jj++) {
          let vi = (j0 + jj) * kvDim + koff + d;
          a += es[jj] * vAt(vi);
        }
        acc[i] += a;
      }
    }
    m = mNew;
    workgroupBarrier(); // es is rewritten by the next chunk
  }
  if (splits.n == 1u) {
    for (var i = 0u; i < 4u; i++) {
      let d = t + i * WG;
      if (d < hd) { out[qb + d] = acc[i] / l; }
    }
    return;
  }
  let b = partBase(r, h, sIdx);
  if (t == 0u) {
    part[b] = m;
    part[b + 1u] = l;
  }
  for (var i = 0u; i < 4u; i++) {
    let d = t + i * WG;
    if (d < hd) { part[b + 2u + d] = acc[i]; }
  }
}

@compute @workgroup_size(WG)
fn combine(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let h = wid.x;
  let r = wid.y;
  if (r >= count.n) { return; }
  let hd = p.headDim;
  var mx = -3.4e38;
  for (var s = 0u; s < splits.n; s++) { mx = max(mx, part[partBase(r, h, s)]); }
  var l = 0.0;
  for (var s = 0u; s < splits.n; s++) {
    let b = partBase(r, h, s);
    l += exp(part[b] - mx) * part[b + 1u];
  }
  let inv = 1.0 / l;
  for (var d = lid.x; d < hd; d += WG) {
    var a = 0.0;
    for (var s = 0u; s < splits.n; s++) {
      let b = partBase(r, h, s);
      a += exp(part[b] - mx) * part[b + 2u + d];
    }
    out[(r * p.nHeads + h) * hd + d] = a * inv;
  }
}
