// Greedy sampling: out[r] = argmax_j logits[r, j] (lowest index wins ties).
struct Params { vocab: u32, _p0: u32, _p1: u32, _p2: u32 }
struct Count { n: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<uniform> count: Count;
@group(0) @binding(2) var<storage, read> logits: array<f32>;      // [n, vocab]
@group(0) @binding(3) var<storage, read_write> out: array<u32>;   // [n]

const WG: u32 = 256u;
var<workgroup> bestV: array<f32, WG>;
var<workgroup> bestI: array<u32, WG>;

@compute @workgroup_size(WG)
fn argmax(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let r = wid.x;
  if (r >= count.n) { return; }
  let t = lid.x;
  var bv = -3.4e38;
  var bi = 0xffffffffu;
  for (var j = t; j < p.vocab; j += WG) {
    let v = logits[r * p.vocab + j];
    if (v > bv) { bv = v; bi = j; }
  }
  bestV[t] = bv;
  bestI[t] = bi;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s /= 2u) {
    if (t < s) {
      let ov = bestV[t + s];
      let oi = bestI[t + s];
      if (ov > bestV[t] || (ov == bestV[t] && oi < bestI[t])) { bestV[t] = ov; bestI[t] = oi; }
    }
    workgroupBarrier();
  }
  if (t == 0u) { out[r] = bestI[0]; }
}
