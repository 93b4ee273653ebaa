/**
 * The q8 K/V storage: each run of 32 consecutive values of a row (a group) is stored as 32 int8 codes
 * followed by one f32 scale (36 bytes, little-endian; on the GPU 9 u32 words: 8 of codes, code t of
 * the group in byte t & 3 of word t >> 2, then the scale's bits). value = code × scale, scale =
 * max |x| / 127 over the group, code = round(x / scale) clamped to ±127 (round half to even, as WGSL's
 * round). Rows hold a multiple of 32 values (kvDim % 32 == 0), so a group never spans two rows and a
 * row is kvDim / 32 × 36 bytes. Arithmetic is f32, as the kernels' (shaders/q8_prelude.wgsl).
 */

/** Values per q8 group (one scale each). */
export const Q8_GROUP = 32;
/** Bytes of one q8 group: 32 codes and an f32 scale. */
export const Q8_GROUP_BYTES = Q8_GROUP + 4;

/** Bytes that `values` values take as q8 (values % 32 == 0). */
export function q8Bytes(values: number): number {
  return (values / Q8_GROUP) * Q8_GROUP_BYTES;
}

/** The number of values `bytes` bytes of q8 hold. */
export function q8Values(bytes: number): number {
  return (bytes / Q8_GROUP_BYTES) * Q8_GROUP;
}

const f = Math.fround;

/** x rounded to the nearest integer, ties to even (WGSL round). */
function roundEven(x: number): number {
  const r = Math.round(x);
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** The scale of a group whose largest magnitude is amax (f32). */
export function q8Scale(amax: number): number {
  return f(amax / 127);
}

/** The code of x in a group of scale s (f32 arithmetic: x × (1 / s), rounded half to even, clamped to ±127). */
export function q8Code(x: number, s: number): number {
  if (!(s > 0)) return 0;
  const inv = f(1 / s);
  return Math.max(-127, Math.min(127, roundEven(f(x * inv))));
}

/** [n] f32 values (n % 32 == 0) → q8 bytes [n / 32 × 36]. */
export function quantizeQ8(a: Float32Array): Uint8Array {
  if (a.length % Q8_GROUP !== 0) {
    throw new RangeError(`q8 stores groups of ${Q8_GROUP} values (got ${a.length} values)`);
  }
  const out = new Uint8Array(q8Bytes(a.length));
  const dv = new DataView(out.buffer);
  const codes = new Int8Array(out.buffer);
  for (let g = 0; g < a.length / Q8_GROUP; g++) {
    const base = g * Q8_GROUP;
    let amax = 0;
    for (let t = 0; t < Q8_GROUP; t++) amax = Math.max(amax, Math.abs(a[base + t]));
    const s = q8Scale(amax);
    for (let t = 0; t < Q8_GROUP; t++) codes[g * Q8_GROUP_BYTES + t] = q8Code(a[base + t], s);
    dv.setFloat32(g * Q8_GROUP_BYTES + Q8_GROUP, s, true);
  }
  return out;
}

/** q8 bytes → the f32 values they hold (code × scale, exact in f32). */
export function dequantizeQ8(b: Uint8Array): Float32Array {
  const groups = b.length / Q8_GROUP_BYTES;
  const out = new Float32Array(groups * Q8_GROUP);
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const codes = new Int8Array(b.buffer, b.byteOffset, b.byteLength);
  for (let g = 0; g < groups; g++) {
    const s = dv.getFloat32(g * Q8_GROUP_BYTES + Q8_GROUP, true);
    for (let t = 0; t < Q8_GROUP; t++) out[g * Q8_GROUP + t] = f(codes[g * Q8_GROUP_BYTES + t] * s);
  }
  return out;
}

/** The scale of each group of q8 bytes `b`, [groups]. */
export function q8Scales(b: Uint8Array): Float32Array {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  return Float32Array.from({ length: b.length / Q8_GROUP_BYTES }, (_, g) =>
    dv.getFloat32(g * Q8_GROUP_BYTES + Q8_GROUP, true),
  );
}

/** What a q8 store keeps of `a` (a copy; a.length % 32 == 0): the reference of the q8 writers. */
export function roundQ8(a: Float32Array): Float32Array {
  return dequantizeQ8(quantizeQ8(a));
}
