import { parseArgs } from 'node:util';
import { KVShareError } from '../errors.ts';
import { runBench } from './bench.ts';
import { runConvert } from './convert.ts';
import { runEvalReuse } from './eval-reuse.ts';
import { runGenerate } from './generate.ts';
import { runPackBuild } from './pack-build.ts';
import { runPerplexity } from './perplexity.ts';
import { runSynth } from './synth.ts';

const USAGE = `kvshare <command> [options]

Commands:
  generate --model <dir|url|x.gguf> --prompt <text> [--max-new-tokens N] [--temperature T]
           [--top-k K] [--top-p P] [--seed S] [--context N] [--quantize q4|q8] [--kv-dtype f16|f32|q8] [--json]
      Prints the continuation of the prompt (only the generated text).
      The prompt is tokenized with the model tokenizer's special tokens: for Llama-style
      tokenizers that means BOS (e.g. id 1) is prepended and nothing else; no chat template.
      Temperature 0 (the default) is greedy decoding.
  bench --model <dir|url|x.gguf> [--prompt-tokens N] [--new-tokens N] [--quantize q4|q8] [--kv-dtype f16|f32|q8]
        [--profile] [--json]
      Prints prefill and decode tokens/s; --profile adds the time per op kind of one prefill
      step and one decode step (timestamps around each op where the adapter has timestamp queries,
      else every op in its own submit; the weights as --quantize loads them).
  perplexity --model <dir|url|x.gguf> --text-file <f> [--quantize q4|q8] [--kv-dtype f16|f32|q8] [--context N] [--json]
      Mean negative log-likelihood (nats/token) and perplexity of the text (tokenized with special
      tokens), in windows of --context tokens (default: the whole text, up to the model's maximum).
      --quantize (here and for generate / bench): every 2-D weight quantized as it loads, group 32:
      q8 (8-bit, f16 scale) or q4 (4-bit, f16 scale). --kv-dtype (every command that loads a model):
      how K/V are stored, f16 (the default where the head size is a multiple of 4: half the bytes), f32,
      or q8 (int8 codes and an f32 scale per group of up to 32 values of one head: 0.28x the bytes of
      f32 on heads of 64+; groups of 8 on heads of 8, 0.375x; head sizes that are a multiple of 4).
  eval-reuse --model <dir|url|x.gguf> --pairs <file.jsonl> [--mode M | --modes all|m1,m2] [--recompute-ratio r]
           [--select all|s1,s2] [--min-similarity x] [--min-fragment n]
           [--max-new-tokens N] [--limit N] [--reps N] [--context N] [--kv-dtype f16|f32|q8] [--chat [--system <text>]] [--json]
      For each {"a","b"} pair: cache a (a string or an array: each, in order; prefill only), answer b
      under each mode (kvshare: each selector), compare with b answered by mode none from an empty
      cache (identical answers, agreement, ROUGE-L, BLEU, first-token KL, median TTFT ms and ratio
      none/mode over --reps alternating runs).
      --chat wraps each text as the user turn of a chat (system prompt: --system, default
      "You are a helpful assistant.") in the model's chat template.
  synth --shape <smollm2-135m|qwen2.5-0.5b|llama-3.2-1b|qwen3-0.6b|gemma-2-2b|gemma-3-1b|phi-3.5-mini|phi-4-mini|stories15m|tiny-qwen2|tiny-llama|tiny-qwen2-151k|tiny-llama3> --out <dir>
        [--seed N] [--dtype F32|F16|BF16] [--tokenizer stories|qwen|llama3] [--reply <text>]
        [--layers N] [--shards N]
      Writes a random-weight model in Hugging Face format with the real shapes.
  convert --model <dir|url> --out <file.gguf> [--type f32|f16|bf16|q8_0|q4_0] [--json]
      Converts a Hugging Face safetensors model (llama, mistral, qwen2) to one GGUF file as llama.cpp's
      convert_hf_to_gguf.py writes it: tensor names, Q/K row order, model metadata, and the tokenizer
      (tokenizer.ggml.*) and chat template from tokenizer.json / tokenizer_config.json / tokenizer.model.
      --type (default f16) is the type of every 2-D weight; norms and biases stay f32.
  pack build --model <dir|url|x.gguf> --docs <folder|file.jsonl> [--chunk-tokens N] --out <site.kvpack>
             [--context N] [--kv-dtype f16|f32] [--json]
      Prefills each document (a folder's .txt/.md files, id = file name; or JSON lines {"id"?, "text"})
      whole, or in chunks of at most N tokens (ids <id>#<n>), and writes a version 2 KV pack (index
      first) that cache.mount(url, {integrity}) reads lazily; prints its size and integrity digest.

The adapter in use is printed on stderr. With no GPU and no VK_ICD_FILENAMES, a software
Vulkan driver (lavapipe, else SwiftShader) is chosen automatically.`;

async function main(argv: string[]): Promise<number> {
  const [command, ...afterCommand] = argv;
  // `pack` has sub-commands: `pack build ...`.
  const sub = command === 'pack' ? afterCommand[0] : undefined;
  const rest = command === 'pack' ? afterCommand.slice(1) : afterCommand;
  const args = parseArgs({
    args: rest,
    allowPositionals: false,
    options: {
      model: { type: 'string' },
      prompt: { type: 'string' },
      'max-new-tokens': { type: 'string' },
      temperature: { type: 'string' },
      'top-k': { type: 'string' },
      'top-p': { type: 'string' },
      seed: { type: 'string' },
      context: { type: 'string' },
      json: { type: 'boolean', default: false },
      profile: { type: 'boolean', default: false },
      'prompt-tokens': { type: 'string' },
      'new-tokens': { type: 'string' },
      shape: { type: 'string' },
      out: { type: 'string' },
      dtype: { type: 'string' },
      pairs: { type: 'string' },
      mode: { type: 'string' },
      modes: { type: 'string' },
      'recompute-ratio': { type: 'string' },
      select: { type: 'string' },
      'min-similarity': { type: 'string' },
      'min-fragment': { type: 'string' },
      limit: { type: 'string' },
      reps: { type: 'string' },
      layers: { type: 'string' },
      shards: { type: 'string' },
      tokenizer: { type: 'string' },
      reply: { type: 'string' },
      chat: { type: 'boolean', default: false },
      system: { type: 'string' },
      quantize: { type: 'string' },
      'kv-dtype': { type: 'string' },
      'text-file': { type: 'string' },
      type: { type: 'string' },
      docs: { type: 'string' },
      'chunk-tokens': { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  }).values;
  if (!command || command === 'help' || command === '--help' || args.help) {
    console.log(USAGE);
    return command ? 0 : 2;
  }
  switch (command) {
    case 'generate':
      return runGenerate(args);
    case 'bench':
      return runBench(args);
    case 'perplexity':
      return runPerplexity(args);
    case 'eval-reuse':
      return runEvalReuse(args);
    case 'synth':
      return runSynth(args);
    case 'convert':
      return runConvert(args);
    case 'pack':
      if (sub === 'build') return runPackBuild(args);
      console.error(`unknown pack command: ${sub ?? '(none)'}\n\n${USAGE}`);
      return 2;
    default:
      console.error(`unknown command: ${command}\n\n${USAGE}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    if (e instanceof KVShareError) console.error(`error [${e.code}] ${e.name}: ${e.message}`);
    else console.error(e instanceof Error ? `error: ${e.message}` : e);
    process.exit(1);
  },
);
