/**
 * The q8 K/V storage: each run of G consecutive values of a row (a group) is stored as G int8 codes
 * followed by one f32 scale (G + 4 bytes, little-endian; on the GPU G / 4 + 1 u32 words: G / 4 of
 * codes, code t of the group in byte t & 3 of word t >> 2, then the scale's bits). value = code ×
 * scale, scale = max |x| / 127 over the group, code = round(x / scale) clamped to ±127 (round half to
 * even, as WGSL's round). G, the model's q8 group (q8GroupFor), divides headDim, so a group never
 * spans two heads (nor two rows) and a row is kvDim / G × (G + 4) bytes. Arithmetic is f32, as the
 * kernels' (shaders/q8_prelude.wgsl, whose Q8_GROUP the kernels set to G).
 */

/** The largest q8 group: real models' heads (64..256 values) take groups of 32 (0.28× of f32's bytes). */
export const Q8_MAX_GROUP = 32;

/**
 * The q8 group of a model with head size `headDim`: the largest multiple of 4 that is ≤ 32 and divides
 * headDim (8 → 8, 16 → 16, 48 → 24, 64/96/128/256 → 32), so a group never spans two heads; undefined
 * where none does (headDim not a multiple of 4): such a model cannot take a q8 cache.
 */
export function q8GroupFor(headDim: number): number | undefined {
  for (let g = Q8_MAX_GROUP; g >= 4; g -= 4) if (headDim % g === 0) return g;
  return undefined;
}

/** Whether g is a q8 group this build reads and writes: a multiple of 4 in [4, 32]. */
export function isQ8Group(g: unknown): g is number {
  return typeof g === 'number' && Number.isInteger(g) && g >= 4 && g <= Q8_MAX_GROUP && g % 4 === 0;
}

/** Bytes of one q8 group of `group` values: the codes and an f32 scale. */
export function q8GroupBytes(group: number): number {
  return group + 4;
}

/** Bytes that `values` values take as q8 in groups of `group` (values % group == 0). */
export function q8Bytes(values: number, group: number): number {
  return (values / group) * q8GroupBytes(group);
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

/** Throws RangeError unless `group` is a q8 group and `values` a whole number of groups. */
function checkGroups(values: number, group: number): void {
  if (!isQ8Group(group)) throw new RangeError(`a q8 group is a multiple of 4 in [4, 32] (got ${group})`);
  if (values % group !== 0)
    throw new RangeError(`q8 stores groups of ${group} values (got ${values} values)`);
}

/** [n] f32 values (n % group == 0) → q8 bytes [n / group × (group + 4)]. */
export function quantizeQ8(a: Float32Array, group: number): Uint8Array {
  checkGroups(a.length, group);
  const gb = q8GroupBytes(group);
  const out = new Uint8Array(q8Bytes(a.length, group));
  const dv = new DataView(out.buffer);
  const codes = new Int8Array(out.buffer);
  for (let g = 0; g < a.length / group; g++) {
    const base = g * group;
    let amax = 0;
    for (let t = 0; t < group; t++) amax = Math.max(amax, Math.abs(a[base + t]));
    const s = q8Scale(amax);
    for (let t = 0; t < group; t++) codes[g * gb + t] = q8Code(a[base + t], s);
    dv.setFloat32(g * gb + group, s, true);
  }
  return out;
}

/** q8 bytes in groups of `group` → the f32 values they hold (code × scale, exact in f32). */
export function dequantizeQ8(b: Uint8Array, group: number): Float32Array {
  const gb = q8GroupBytes(group);
  if (!isQ8Group(group) || b.length % gb !== 0) {
    throw new RangeError(`${b.length} bytes are not whole q8 groups of ${group} values`);
  }
  const groups = b.length / gb;
  const out = new Float32Array(groups * group);
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const codes = new Int8Array(b.buffer, b.byteOffset, b.byteLength);
  for (let g = 0; g < groups; g++) {
    const s = dv.getFloat32(g * gb + group, true);
    for (let t = 0; t < group; t++) out[g * group + t] = f(codes[g * gb + t] * s);
  }
  return out;
}

/** The scale of each group of q8 bytes `b` in groups of `group`, [groups]. */
export function q8Scales(b: Uint8Array, group: number): Float32Array {
  const gb = q8GroupBytes(group);
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  return Float32Array.from({ length: b.length / gb }, (_, g) => dv.getFloat32(g * gb + group, true));
}

/** What a q8 store in groups of `group` keeps of `a` (a copy; a.length % group == 0): the writers' reference. */
export function roundQ8(a: Float32Array, group: number): Float32Array {
  return dequantizeQ8(quantizeQ8(a, group), group);
}
