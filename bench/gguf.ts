// node --import tsx bench/gguf.ts [--rounds N]: one synthetic Qwen2 model (random weights; widths 768 /
// 2048, 6 layers, 8192-token untied head, so every row is whole 256-value K-quant blocks) written as
// GGUF F16, Q8_0, Q4_0, Q4_K and Q6_K (src/model/gguf/gguf-writer.ts), then `kvshare bench` on each
// file, the types alternated for --rounds rounds (default 2): GPU weight bytes and median
// prefill / decode tok/s. Numbers are printed, never asserted.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseConfig } from '../src/model/config.ts';
import type { GgmlName } from '../src/model/gguf/gguf-quantize.ts';
import { ggufFromModel } from '../src/model/gguf/gguf-writer.ts';
import { randomTensors, tokenList } from '../test/helpers/gguf-writer-models.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const assets = `${root}assets`;
const dir = `${root}tmp/gguf-bench`;
const roundsArg = process.argv.indexOf('--rounds');
const rounds = roundsArg > 0 ? Number(process.argv[roundsArg + 1]) : 2;
const TYPES: GgmlName[] = ['F16', 'Q8_0', 'Q4_0', 'Q4_K', 'Q6_K'];

const cfg = parseConfig({
  model_type: 'qwen2',
  vocab_size: 8192,
  hidden_size: 768,
  intermediate_size: 2048,
  num_hidden_layers: 6,
  num_attention_heads: 12,
  num_key_value_heads: 4,
  head_dim: 64,
  max_position_embeddings: 512,
  rms_norm_eps: 1e-6,
  rope_theta: 1000000,
  tie_word_embeddings: false,
  bos_token_id: 1,
  eos_token_id: 2,
});

mkdirSync(dir, { recursive: true });
let tensors: ReturnType<typeof randomTensors> | null = null;
for (const type of TYPES) {
  const path = `${dir}/${type}.gguf`;
  if (existsSync(path)) continue;
  console.log(`writing ${path} ...`);
  tensors ??= randomTensors(cfg, 5);
  // The stories tokens (512) name the first ids; the rest are filler pieces.
  const tokens = tokenList(`${assets}/stories260K-hf/tokenizer.json`);
  for (let i = tokens.length; i < cfg.vocabSize; i++) tokens.push(`<filler_${i}>`);
  writeFileSync(path, ggufFromModel(cfg, tensors, { type, tokens }));
}
// The tokenizer beside the files (the filler ids are never produced by it).
for (const f of ['tokenizer.json', 'tokenizer_config.json']) {
  execFileSync('cp', [`${assets}/stories260K-hf/${f}`, `${dir}/${f}`]);
}

function bench(model: string) {
  const out = execFileSync(
    process.execPath,
    [
      `${root}bin/kvshare.js`,
      'bench',
      '--model',
      model,
      '--prompt-tokens',
      '16',
      '--new-tokens',
      '16',
      '--json',
    ],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] },
  );
  return JSON.parse(out.trim().split('\n').pop()!);
}

const median = (v: number[]) => [...v].sort((a, b) => a - b)[v.length >> 1];
const rows: Record<string, { prefill: number[]; decode: number[]; bytes: number }> = {};
for (let i = 0; i < rounds; i++) {
  for (const type of TYPES) {
    const r = bench(`${dir}/${type}.gguf`);
    rows[type] ??= { prefill: [], decode: [], bytes: r.weightBytes };
    rows[type].prefill.push(r.prefillTokensPerSec);
    rows[type].decode.push(r.decodeTokensPerSec);
  }
}
console.log('GGUF type  GPU weight MB  vs F16  prefill tok/s  decode tok/s  decode vs F16');
const f16 = rows.F16;
for (const [type, r] of Object.entries(rows)) {
  console.log(
    `${type.padEnd(9)}  ${(r.bytes / 1e6).toFixed(1).padStart(13)}  ${(r.bytes / f16.bytes).toFixed(3).padStart(6)}  ${String(median(r.prefill)).padStart(13)}  ${String(median(r.decode)).padStart(12)}  ${(median(r.decode) / median(f16.decode)).toFixed(2).padStart(13)}`,
  );
}
