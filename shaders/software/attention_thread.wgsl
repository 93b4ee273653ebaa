// Attention for software adapters, every step (decode and prefill; grouped-query, causal by position), two passes with no
// shared memory and no barrier (on llvmpipe every workgroupBarrier switches coroutines):
//   scores: thread (r, kvh, 4 positions j..j+3) writes s[h, j] = q[r, h, :] . K[j, kvh, :] * scale
//           for the G heads h of KV head kvh and j < len = pos[r] + 1, from vec4 loads (one K load
//           serves G heads, one q load 4 positions). The x grid covers `chunks.n` * SPAN positions;
//           a thread steps by that, so any chunks.n >= 1 gives the same scores.
//   output: thread (r, h, dims 4i..4i+3) walks j < len with an online softmax (m, l, acc) over the
//           scores and vec4 loads of V; out = acc / l. (Per head, not per KV head: G accumulators
//           indexed by a loop counter spill on SwiftShader and made this pass 1.5-1.6x slower there.)
// kvh = h / G, G = nHeads / nKvHeads <= MAX_G; headDim % 4 == 0 (the op checks both). The cache's
// storage (f32, f16 or q8) is read four values at a time through kv_access.wgsl's k4At and v4At
// (kv_f32.wgsl's kv4).
// Sliding window and soft-capping: attention_mask.wgsl (both passes start at the window's first position).
#include kv_f32
struct Params { nHeads: u32, nKvHeads: u32, headDim: u32, ctx: u32, scale: f32, window: u32, softcap: f32, _p2: u32 }
struct Count { n: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<uniform> count: Count;                     // rows n
@group(0) @binding(2) var<uniform> chunks: Count;                    // ceil(span / SPAN), capped (scores)
@group(0) @binding(3) var<storage, read> pos: array<i32>;            // [n]
@group(0) @binding(4) var<storage, read> q: array<vec4<f32>>;        // [n, nHeads * headDim / 4] (scores)
@group(0) @binding(5) var<storage, read> kc: array<KVWord4>;         // [ctx, nKvHeads * headDim / 4] (scores)
@group(0) @binding(6) var<storage, read> vc: array<KVWord4>;         // [ctx, nKvHeads * headDim / 4] (output)
@group(0) @binding(7) var<storage, read_write> scores: array<f32>;   // [n, nHeads, ctx]
@group(0) @binding(8) var<storage, read_write> out: array<vec4<f32>>; // [n, nHeads * headDim / 4] (output)
#include attention_mask
#include kv_access

const WG: u32 = 16u;        // threads per scores workgroup
const SPAN: u32 = 4u * WG;  // positions per scores workgroup
const OWG: u32 = 8u;        // threads per output workgroup (one SIMD group of llvmpipe)
const MAX_G: u32 = 16u;     // G <= MAX_G
override G: u32 = 1u;       // heads per KV head: nHeads / nKvHeads (the op specialises it)

@compute @workgroup_size(WG)
fn scores_pass(@builtin(global_invocation_id) gid: vec3<u32>) {
  let kvh = gid.y;
  let r = gid.z;
  if (r >= count.n) { return; }
  let len = u32(pos[r]) + 1u;
  let hd4 = p.headDim / 4u;
  let kvDim4 = p.nKvHeads * hd4;
  let koff = kvh * hd4;
  let h0 = kvh * G; // heads h0 .. h0 + G - 1 read this KV head
  let qb = (r * p.nHeads + h0) * hd4;
  let sb = (r * p.nHeads + h0) * p.ctx;
  let last = len - 1u;
  for (var j = firstPos(len) + gid.x * 4u; j < len; j += chunks.n * SPAN) {
    // positions past len read the last one (no branch in the loop) and are not written
    let k0 = j * kvDim4 + koff;
    let k1 = min(j + 1u, last) * kvDim4 + koff;
    let k2 = min(j + 2u, last) * kvDim4 + koff;
    let k3 = min(j + 3u, last) * kvDim4 + koff;
    var s: array<vec4<f32>, MAX_G>; // s[g] = scores of head h0 + g at j .. j + 3
    for (var g = 0u; g < G; g++) { s[g] = vec4<f32>(0.0); }
    for (var d = 0u; d < hd4; d++) {
      let a = k4At(k0 + d);
      let b = k4At(k1 + d);
      let c = k4At(k2 + d);
      let e = k4At(k3 + d);
      for (var g = 0u; g < G; g++) {
        let qv = q[qb + g * hd4 + d];
        s[g] += vec4<f32>(dot(qv, a), dot(qv, b), dot(qv, c), dot(qv, e));
      }
    }
    for (var g = 0u; g < G; g++) {
      let s0 = s[g] * p.scale;
      let sg = vec4<f32>(capScore(s0.x), capScore(s0.y), capScore(s0.z), capScore(s0.w));
      let o = sb + g * p.ctx + j;
      scores[o] = sg.x;
      if (j + 1u < len) { scores[o + 1u] = sg.y; }
      if (j + 2u < len) { scores[o + 2u] = sg.z; }
      if (j + 3u < len) { scores[o + 3u] = sg.w; }
    }
  }
}

@compute @workgroup_size(OWG)
fn output_pass(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x; // dims 4i .. 4i + 3
  let h = gid.y;
  let r = gid.z;
  let hd4 = p.headDim / 4u;
  if (r >= count.n || i >= hd4) { return; }
  let len = u32(pos[r]) + 1u;
  let kvDim4 = p.nKvHeads * hd4;
  let vb = (h / G) * hd4 + i;
  let sb = (r * p.nHeads + h) * p.ctx;
  var m = -3.4e38;
  var l = 0.0;
  var acc = vec4<f32>(0.0);
  for (var j = firstPos(len); j < len; j++) {
    let s = scores[sb + j];
    let mNew = max(m, s);
    let corr = exp(m - mNew);
    let e = exp(s - mNew);
    l = l * corr + e;
    acc = acc * corr + e * v4At(j * kvDim4 + vb);
    m = mNew;
  }
  out[(r * p.nHeads + h) * hd4 + i] = acc / l;
}
