// Grouped-query attention of n rows over the KV cache, causal by position:
// row r, head h attends to cache positions 0..pos[r] of KV head h / (nHeads / nKvHeads).
//   s[p]   = q[r, h, :] . K[p, kvh, :] * scale
//   out[r, h, :] = sum_p softmax(s)[p] * V[p, kvh, :]
// attend: one workgroup per (head, row); attend_thread (software adapters, many rows): one thread
// per (head, row), no shared memory and no barrier, same arithmetic per weight and output. The
// normalised weights are left in `probs`: this is the kernel of KVShare's deviation probe
// (src/llama/reuse.ts) and of forward steps over many rows; steps of a few rows (decode) use
// attention_flash.wgsl (attention_thread.wgsl on software adapters). The cache's storage (f32, f16
// or q8) is read through kv_access.wgsl (kv_f32.wgsl's accessors), four values at a time where
// headDim % 4 == 0 (one load of codes and one of their scale serve four values; f16 and q8 caches
// always have such heads), else one at a time (f32 heads of other sizes).
// Sliding window and soft-capping: attention_mask.wgsl; positions before the window get weight 0.
#include kv_f32
struct Params { nHeads: u32, nKvHeads: u32, headDim: u32, ctx: u32, scale: f32, window: u32, softcap: f32, _p2: u32 }
struct Count { n: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<uniform> count: Count;
@group(0) @binding(2) var<storage, read> pos: array<i32>;            // [n]
@group(0) @binding(3) var<storage, read> q: array<f32>;              // [n, nHeads * headDim]
@group(0) @binding(4) var<storage, read> kc: array<KVWord4>;         // [ctx, nKvHeads * headDim] (kvIndex4)
@group(0) @binding(5) var<storage, read> vc: array<KVWord4>;         // [ctx, nKvHeads * headDim] (kvIndex4)
@group(0) @binding(6) var<storage, read_write> probs: array<f32>;    // [n, nHeads, ctx]
@group(0) @binding(7) var<storage, read_write> out: array<f32>;      // [n, nHeads * headDim]
#include attention_mask
#include kv_access

override WG: u32 = 64;
var<workgroup> red: array<f32, WG>;

fn reduce_max(v: f32, t: u32) -> f32 {
  red[t] = v;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s /= 2u) {
    if (t < s) { red[t] = max(red[t], red[t + s]); }
    workgroupBarrier();
  }
  let m = red[0];
  workgroupBarrier();
  return m;
}

fn reduce_sum(v: f32, t: u32) -> f32 {
  red[t] = v;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s /= 2u) {
    if (t < s) { red[t] += red[t + s]; }
    workgroupBarrier();
  }
  let m = red[0];
  workgroupBarrier();
  return m;
}

// Where head h of row r reads and writes: positions lo .. len - 1 (lo: the window's first), the K/V
// row stride, its K/V head's offset in a K/V row, its q / out base and its probs base.
struct HeadRow { lo: u32, len: u32, kvDim: u32, koff: u32, qb: u32, sb: u32 }

fn headRow(h: u32, r: u32) -> HeadRow {
  return HeadRow(
    firstPos(u32(pos[r]) + 1u),
    u32(pos[r]) + 1u,
    p.nKvHeads * p.headDim,
    (h / (p.nHeads / p.nKvHeads)) * p.headDim,
    (r * p.nHeads + h) * p.headDim,
    (r * p.nHeads + h) * p.ctx,
  );
}

@compute @workgroup_size(WG)
fn attend(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let h = wid.x;
  let r = wid.y;
  if (r >= count.n) { return; }
  let t = lid.x;
  let a = headRow(h, r);

  var m = -3.4e38;
  for (var j = t; j < a.lo; j += WG) { probs[a.sb + j] = 0.0; } // outside the window
  for (var j = a.lo + t; j < a.len; j += WG) {
    let s = score(a.qb, j * a.kvDim + a.koff);
    probs[a.sb + j] = s;
    m = max(m, s);
  }
  let mx = reduce_max(m, t);
  var sum = 0.0;
  for (var j = a.lo + t; j < a.len; j += WG) {
    let e = exp(probs[a.sb + j] - mx);
    probs[a.sb + j] = e;
    sum += e;
  }
  let inv = 1.0 / reduce_sum(sum, t);
  for (var j = a.lo + t; j < a.len; j += WG) { probs[a.sb + j] *= inv; }
  storageBarrier();
  writeOut(a, t, WG);
}

// capScore(q[qb .. qb + headDim] . kc[kb .. kb + headDim] * scale)
fn score(qb: u32, kb: u32) -> f32 {
  var s = 0.0;
  if (p.headDim % 4u == 0u) {
    for (var d = 0u; d < p.headDim; d += 4u) {
      let qv = vec4<f32>(q[qb + d], q[qb + d + 1u], q[qb + d + 2u], q[qb + d + 3u]);
      s += dot(qv, k4At((kb + d) / 4u));
    }
  } else {
    for (var d = 0u; d < p.headDim; d++) { s += q[qb + d] * kAt(kb + d); }
  }
  return capScore(s * p.scale);
}

// sum_j probs[sb + j] * vc[j * kvDim + vd] over positions lo <= j < len
fn weighted(sb: u32, lo: u32, len: u32, vd: u32, kvDim: u32) -> f32 {
  var acc = 0.0;
  for (var j = lo; j < len; j++) { acc += probs[sb + j] * vAt(j * kvDim + vd); }
  return acc;
}

// weighted() of the four dims vd .. vd + 3 (vd and kvDim multiples of 4)
fn weighted4(sb: u32, lo: u32, len: u32, vd: u32, kvDim: u32) -> vec4<f32> {
  var acc = vec4<f32>(0.0);
  for (var j = lo; j < len; j++) { acc += probs[sb + j] * v4At((j * kvDim + vd) / 4u); }
  return acc;
}

// out[qb + d] for dims d = d0, d0 + step, ... (step a multiple of 4 when headDim % 4 == 0, so a
// thread writes whole vec4s of dims)
fn writeOut(a: HeadRow, d0: u32, step: u32) {
  if (p.headDim % 4u == 0u) {
    for (var d = 4u * d0; d < p.headDim; d += 4u * step) {
      let o = weighted4(a.sb, a.lo, a.len, a.koff + d, a.kvDim);
      out[a.qb + d] = o.x;
      out[a.qb + d + 1u] = o.y;
      out[a.qb + d + 2u] = o.z;
      out[a.qb + d + 3u] = o.w;
    }
  } else {
    for (var d = d0; d < p.headDim; d += step) { out[a.qb + d] = weighted(a.sb, a.lo, a.len, a.koff + d, a.kvDim); }
  }
}

@compute @workgroup_size(64)
fn attend_thread(@builtin(global_invocation_id) gid: vec3<u32>) {
  let h = gid.x % p.nHeads;
  let r = gid.x / p.nHeads;
  if (r >= count.n) { return; }
  let a = headRow(h, r);
  var m = -3.4e38;
  for (var j = 0u; j < a.lo; j++) { probs[a.sb + j] = 0.0; } // outside the window
  for (var j = a.lo; j < a.len; j++) {
    let s = score(a.qb, j * a.kvDim + a.koff);
    probs[a.sb + j] = s;
    m = max(m, s);
  }
  var sum = 0.0;
  for (var j = a.lo; j < a.len; j++) {
    let e = exp(probs[a.sb + j] - m);
    probs[a.sb + j] = e;
    sum += e;
  }
  let inv = 1.0 / sum;
  for (var j = a.lo; j < a.len; j++) { probs[a.sb + j] *= inv; }
  writeOut(a, 0u, 1u);
}
