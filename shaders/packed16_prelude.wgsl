// Shared by the kernels reading 16-bit weights packed two per u32 (#include packed16_prelude):
// element 2j in the low half of word j, 2j + 1 in the high half; widened to f32 exactly (BF16 by a
// shift, F16 by unpack2x16float).
override BF16: u32 = 1;  // 1: bfloat16, 0: IEEE half

// Two packed 16-bit values (element 2j low, 2j + 1 high) as f32.
fn unpack2(v: u32) -> vec2<f32> {
  if (BF16 != 0u) { return vec2<f32>(bitcast<f32>(v << 16u), bitcast<f32>(v & 0xffff0000u)); }
  return unpack2x16float(v);
}
