// gemvFinish when one thread computes a whole dot product (TPO = 1; #include'd in place of
// matmul_gemv_reduce): nothing to reduce, no shared memory, no barrier. The split for software
// adapters (SwiftShader, lavapipe), where lanes are SIMD lanes of one CPU core and any exchange
// between them costs more than the loads it saves.
fn gemvFinish(lid: u32, o: u32, r0: u32, s: vec4<f32>) { gemvStore(o, r0, s); }
