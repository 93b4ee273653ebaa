/**
 * Writes a Hugging Face-format model folder with real shapes and seeded random weights.
 *
 *   node --import tsx scripts/make-synthetic.ts --shape <name> --out <dir>
 *     [--seed N] [--dtype F32|F16|BF16] [--layers N] [--shards N] [--tokenizer-from <dir>]
 *
 * Shapes: smollm2-135m, qwen2.5-0.5b, tiny-qwen2, tiny-llama.
 */
import { parseArgs } from 'node:util';
import {
  SYNTHETIC_SHAPES,
  type SyntheticShape,
  writeSyntheticModel,
} from '../src/cli/synthetic/synthetic.ts';
import { isDType } from '../src/model/weights/dtype.ts';

function fail(message: string): never {
  console.error(`make-synthetic: ${message}`);
  process.exit(2);
}

function int(name: string, v: string | undefined, fallback: number | undefined): number | undefined {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) fail(`--${name} must be a whole number (got ${v})`);
  return n;
}

const { values } = parseArgs({
  options: {
    shape: { type: 'string' },
    out: { type: 'string' },
    seed: { type: 'string' },
    dtype: { type: 'string' },
    layers: { type: 'string' },
    shards: { type: 'string' },
    'tokenizer-from': { type: 'string' },
  },
  strict: true,
});

const shapes = Object.keys(SYNTHETIC_SHAPES);
if (!values.shape || !shapes.includes(values.shape)) fail(`--shape must be one of ${shapes.join(', ')}`);
if (!values.out) fail('--out <dir> is required');
const dtype = values.dtype ?? 'F32';
if (!isDType(dtype)) fail(`--dtype must be F32, F16 or BF16 (got ${dtype})`);

const t0 = performance.now();
const result = await writeSyntheticModel({
  shape: values.shape as SyntheticShape,
  out: values.out,
  seed: int('seed', values.seed, 1),
  dtype,
  layers: int('layers', values.layers, undefined),
  shards: int('shards', values.shards, 1),
  tokenizerFrom: values['tokenizer-from'],
});
const c = result.config;
console.log(
  `wrote ${values.out}: ${values.shape} (${c.modelType}, ${c.numLayers} layers, vocab ${c.vocabSize}, ${dtype}), ` +
    `${(result.weightBytes / 2 ** 20).toFixed(1)} MiB of weights in ${result.files.filter((f) => f.endsWith('.safetensors')).length} file(s), ` +
    `${((performance.now() - t0) / 1000).toFixed(1)} s`,
);
