// Adversarial model folders (issue 8): every config.json field set to hostile values, and damaged
// safetensors / tokenizer files. Each load gives a typed error or a model whose config matches its
// tensors; none throws an untyped error or runs away (each is bounded in time). Prints the counts.
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KVShareError } from '../../src/errors.ts';
import { validateTensors } from '../../src/model/layout.ts';
import { loadModelFiles } from '../../src/model/load.ts';
import { loadTokenizer } from '../../src/model/tokenizer/tokenizer.ts';
import { storiesDir } from '../helpers/models.ts';

const FIELDS = [
  'vocab_size',
  'hidden_size',
  'intermediate_size',
  'num_hidden_layers',
  'num_attention_heads',
  'num_key_value_heads',
  'head_dim',
  'max_position_embeddings',
  'rms_norm_eps',
  'rope_theta',
  'bos_token_id',
  'eos_token_id',
  'tie_word_embeddings',
  'model_type',
  'architectures',
  'hidden_act',
  'rope_scaling',
];
const VALUES: unknown[] = [-1, 0, 1.5, '12', 1e6, 3e9, [], {}, true, null, undefined];
const FILES = ['config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json'];

let tmp: string;
let n = 0;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'kvshare-hostile-folders-'));
});
afterAll(() => rm(tmp, { recursive: true, force: true }));

async function folder(edit: (files: Map<string, Uint8Array>) => void): Promise<string> {
  const dir = join(tmp, `m${++n}`);
  await mkdir(dir);
  const files = new Map<string, Uint8Array>();
  for (const f of FILES) files.set(f, new Uint8Array(await readFile(join(storiesDir(), f))));
  edit(files);
  for (const [f, bytes] of files) await writeFile(join(dir, f), bytes);
  return dir;
}
const text = (s: string) => new TextEncoder().encode(s);
const configEdit = (key: string, value: unknown) => (files: Map<string, Uint8Array>) => {
  const cfg = JSON.parse(new TextDecoder().decode(files.get('config.json')));
  if (value === undefined) delete cfg[key];
  else cfg[key] = value;
  files.set('config.json', text(JSON.stringify(cfg)));
};
const fileEdit =
  (name: string, change: (b: Uint8Array) => Uint8Array | null) => (files: Map<string, Uint8Array>) => {
    const b = change(files.get(name)!);
    if (b) files.set(name, b);
    else files.delete(name);
  };
const header8 = (v: bigint) => (b: Uint8Array) => {
  const c = b.slice();
  new DataView(c.buffer).setBigUint64(0, v, true);
  return c;
};

const DAMAGE: [string, (files: Map<string, Uint8Array>) => void][] = [
  ['config.json not JSON', fileEdit('config.json', () => text('{"vocab_size": 5'))],
  ['config.json an array', fileEdit('config.json', () => text('[]'))],
  ['config.json missing', fileEdit('config.json', () => null)],
  ['safetensors missing', fileEdit('model.safetensors', () => null)],
  ['safetensors truncated', fileEdit('model.safetensors', (b) => b.slice(0, b.length - 1000))],
  ['safetensors header length 2^60', fileEdit('model.safetensors', header8(2n ** 60n))],
  ['safetensors header length 0', fileEdit('model.safetensors', header8(0n))],
  [
    'safetensors header garbage',
    fileEdit('model.safetensors', (b) => {
      const c = b.slice();
      c.fill(0x7b, 8, 40);
      return c;
    }),
  ],
  ['safetensors 4 bytes', fileEdit('model.safetensors', (b) => b.slice(0, 4))],
  [
    'safetensors with extra bytes',
    fileEdit('model.safetensors', (b) => {
      const c = new Uint8Array(b.length + 16);
      c.set(b);
      return c;
    }),
  ],
  ['tokenizer.json missing', fileEdit('tokenizer.json', () => null)],
  ['tokenizer.json not JSON', fileEdit('tokenizer.json', () => text('{{'))],
  ['tokenizer.json a number', fileEdit('tokenizer.json', () => text('7'))],
  ['tokenizer_config.json not JSON', fileEdit('tokenizer_config.json', () => text('nope'))],
];
for (const key of FIELDS)
  for (const v of VALUES) DAMAGE.push([`${key} = ${JSON.stringify(v)}`, configEdit(key, v)]);

describe('adversarial model folders', () => {
  it(`${DAMAGE.length} damaged folders: typed error or a consistent model`, async () => {
    const counts = { tried: 0, accepted: 0, wrong: 0, crashed: 0, lost: 0 };
    let slowest = 0;
    for (const [name, damage] of DAMAGE) {
      counts.tried++;
      const dir = await folder(damage);
      const t0 = performance.now();
      try {
        const m = await loadModelFiles(dir);
        await loadTokenizer(dir, m.config);
        validateTensors(m.config, [...m.tensors.values()]);
        counts.accepted++;
        if (process.env.FUZZ_VERBOSE) console.log(`FUZZ folder accepted: ${name}`);
      } catch (e) {
        if (!(e instanceof KVShareError)) {
          console.log(`FUZZ folder ${name}: untyped ${String(e)}`);
          counts.crashed++;
        }
      }
      const ms = performance.now() - t0;
      slowest = Math.max(slowest, ms);
      await rm(dir, { recursive: true, force: true });
    }
    console.log(`FUZZ model folders: ${JSON.stringify(counts)}; slowest ${slowest.toFixed(0)} ms`);
    expect({ ...counts, accepted: 0 }).toEqual({
      tried: DAMAGE.length,
      accepted: 0,
      wrong: 0,
      crashed: 0,
      lost: 0,
    });
  });
});
