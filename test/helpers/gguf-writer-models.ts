// Test GGUF models: stories260K converted (F32 / Q8_0 / Q4_0 ...) and a small synthetic Qwen2 with
// biases whose rows are whole K-quant super-blocks.
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseConfig } from '../../src/model/config.ts';
import type { GgmlName } from '../../src/model/gguf/gguf-quantize.ts';
import { ggufTokenizerMetadata } from '../../src/model/gguf/gguf-vocab.ts';
import { ggufFromModel, kvsFromJson } from '../../src/model/gguf/gguf-writer.ts';
import { expectedTensors } from '../../src/model/layout.ts';
import { loadModelFiles } from '../../src/model/load.ts';
import type { HostTensor, ModelConfig } from '../../src/model/types.ts';
import { mulberry32 } from '../../src/util/prng.ts';
import { storiesDir } from './models.ts';

/** tokenizer.json's vocabulary as a token list by id (what tokenizer.ggml.tokens holds). */
export function tokenList(tokenizerJsonPath: string): string[] {
  const tj = JSON.parse(readFileSync(tokenizerJsonPath, 'utf8'));
  const tokens: string[] = [];
  for (const [t, id] of Object.entries(tj.model.vocab as Record<string, number>)) tokens[id] = t;
  return tokens;
}

/**
 * Writes `stories-<type>.gguf` for each type into `dir` with the tokenizer.ggml.* metadata llama.cpp's
 * converter writes for the HF folder (tokenizer.json alone: every score -1000), and tokenizer.json and
 * tokenizer_config.json beside them unless `tokenizerBeside` is false. Returns the file paths by type.
 */
export async function writeStoriesGguf(
  dir: string,
  types: GgmlName[],
  tokenizerBeside = true,
): Promise<Record<string, string>> {
  mkdirSync(dir, { recursive: true });
  const st = await loadModelFiles(storiesDir());
  const json = (f: string) => JSON.parse(readFileSync(join(storiesDir(), f), 'utf8'));
  const tokenizerKVs = kvsFromJson(
    ggufTokenizerMetadata(json('tokenizer.json'), json('tokenizer_config.json')),
  );
  const out: Record<string, string> = {};
  for (const type of types) {
    out[type] = join(dir, `stories-${type}.gguf`);
    writeFileSync(out[type], ggufFromModel(st.config, st.tensors, { type, tokenizerKVs }));
  }
  if (tokenizerBeside) {
    for (const f of ['tokenizer.json', 'tokenizer_config.json'])
      copyFileSync(join(storiesDir(), f), join(dir, f));
  }
  return out;
}

/** A 2-layer Qwen2 (q/k/v biases, untied head) whose widths are multiples of 256, for K-quants. */
export const KQUANT_QWEN2: ModelConfig = parseConfig({
  model_type: 'qwen2',
  vocab_size: 512,
  hidden_size: 256,
  intermediate_size: 512,
  num_hidden_layers: 2,
  num_attention_heads: 4,
  num_key_value_heads: 2,
  head_dim: 64,
  max_position_embeddings: 256,
  rms_norm_eps: 1e-6,
  rope_theta: 1000000,
  tie_word_embeddings: false,
  bos_token_id: 1,
  eos_token_id: 2,
});

/** Random f32 weights for a config: projections ~ U(−0.1, 0.1), norms ~ 1 ± 0.05, biases ~ U(−0.05, 0.05). */
export function randomTensors(cfg: ModelConfig, seed: number): Map<string, HostTensor> {
  const rnd = mulberry32(seed);
  const out = new Map<string, HostTensor>();
  for (const [name, shape] of expectedTensors(cfg)) {
    const n = shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(n);
    const norm = name.endsWith('norm.weight');
    const bias = name.endsWith('.bias');
    for (let i = 0; i < n; i++) {
      const u = rnd() * 2 - 1;
      // Gemma's norm weights w act as 1 + w
      data[i] = norm ? (cfg.gemma ? 0 : 1) + 0.05 * u : bias ? 0.05 * u : 0.1 * u;
    }
    out.set(name, { name, shape, dtype: 'F32', data });
  }
  return out;
}
