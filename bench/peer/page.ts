// The peer benchmark page: our engine and transformers.js (ONNX Runtime Web) in one page on the same
// WebGPU adapter, each timed the same way (from the generate call, at each streamed token).
import {
  AutoModelForCausalLM,
  BaseStreamer,
  env,
  type PreTrainedModel,
  Tensor,
} from '@huggingface/transformers';
import { Engine } from '../../src/engine/engine.ts';
import { browserShaderLibrary } from '../../src/gpu/shaders-browser.ts';
import type { PeerApi, PeerEngine, PeerRun } from './api.ts';

env.allowRemoteModels = false;
env.allowLocalModels = true;
env.localModelPath = '/models/';
// onnxruntime-web's dist/ folder, served locally (bench/peer.ts passes its URL as ?ort=).
const ortDist = new URLSearchParams(location.search).get('ort');
if (ortDist && env.backends.onnx.wasm) env.backends.onnx.wasm.wasmPaths = ortDist;

const ours = new Engine({ gpu: async () => navigator.gpu, shaders: browserShaderLibrary });
const theirs = new Map<PeerEngine, PreTrainedModel>();

/** Times of each token a generate() streams (the first put is the prompt). */
class TimingStreamer extends BaseStreamer {
  readonly times: number[] = [];
  private prompt = true;
  override put(): void {
    if (this.prompt) this.prompt = false;
    else this.times.push(performance.now());
  }
  override end(): void {}
}

function result(t0: number, times: number[], ids: number[]): PeerRun {
  const n = times.length;
  return {
    ids,
    ttftMs: times[0] - t0,
    decodeTokensPerSec: n > 1 ? ((n - 1) * 1000) / (times[n - 1] - times[0]) : 0,
  };
}

async function runOurs(promptIds: number[], newTokens: number): Promise<PeerRun> {
  const times: number[] = [];
  const ids: number[] = [];
  const t0 = performance.now();
  const stream = ours.generateStream(
    { tokenIds: promptIds },
    { maxNewTokens: newTokens, ignoreEos: true, reuse: { mode: 'none' }, cachePrompt: false },
  );
  for await (const chunk of stream) {
    times.push(performance.now());
    ids.push(chunk.tokenId);
  }
  return result(t0, times, ids);
}

async function runTheirs(engine: PeerEngine, promptIds: number[], newTokens: number): Promise<PeerRun> {
  const model = theirs.get(engine);
  if (!model) throw new Error(`${engine} is not loaded`);
  const n = promptIds.length;
  const streamer = new TimingStreamer();
  const t0 = performance.now();
  const out = (await model.generate({
    input_ids: new Tensor('int64', BigInt64Array.from(promptIds.map(BigInt)), [1, n]),
    attention_mask: new Tensor('int64', new BigInt64Array(n).fill(1n), [1, n]),
    max_new_tokens: newTokens,
    do_sample: false,
    eos_token_id: null, // EOS ignored, as in our run
    streamer,
  } as unknown as Parameters<PreTrainedModel['generate']>[0])) as Tensor;
  const all = Array.from(out.data as BigInt64Array, Number);
  return result(t0, streamer.times, all.slice(n));
}

const api: PeerApi = {
  async load(engine, model) {
    const t0 = performance.now();
    if (engine === 'kvshare') {
      await ours.load(`${location.origin}/models/${model}`, { contextLength: 256 });
    } else {
      theirs.set(
        engine,
        await AutoModelForCausalLM.from_pretrained(model, {
          device: engine === 'tjs-webgpu' ? 'webgpu' : 'wasm',
          dtype: 'fp32',
        }),
      );
    }
    return performance.now() - t0;
  },
  run: (engine, promptIds, newTokens) =>
    engine === 'kvshare' ? runOurs(promptIds, newTokens) : runTheirs(engine, promptIds, newTokens),
  async adapter() {
    const a = await navigator.gpu?.requestAdapter();
    return a ? [a.info.vendor, a.info.architecture, a.info.description].filter(Boolean).join(' / ') : 'none';
  },
};
(window as unknown as { kvsharePeer: PeerApi }).kvsharePeer = api;
