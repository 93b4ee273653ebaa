// Shared by every attention kernel (#include attention_mask; their Params hold `window` and
// `softcap`): which cache positions a row attends and how a raw score is capped.
//   window:  0 = every position <= pos; W > 0 = the last W of them (the row itself and W - 1 before),
//            as llama.cpp's standard sliding window (Mistral, Gemma 2/3 local layers).
//   softcap: 0 = none; c > 0 = c * tanh(s / c) on the scaled score s (Gemma 2's attention logit cap).
// First attended position of a row attending len = pos + 1 positions.
fn firstPos(len: u32) -> u32 {
  if (p.window == 0u || len <= p.window) { return 0u; }
  return len - p.window;
}
fn capScore(s: f32) -> f32 {
  if (p.softcap <= 0.0) { return s; }
  return p.softcap * tanh(clamp(s / p.softcap, -15.0, 15.0));
}
