import { ContextOverflowError, EmptyPromptError, EngineNotLoadedError, InvalidArgumentError } from '../errors.ts';
import { acquireDevice, type GpuContext } from '../gpu/device.ts';
import type { ShaderLibrary } from '../gpu/pipelines.ts';
import { LlamaRunner } from '../llama/runner.ts';
import { checkTensorsFit } from '../llama/weights.ts';
import { loadModelFiles } from '../model/load.ts';
import { loadTokenizer, type Tokenizer } from '../model/tokenizer.ts';
import { openModelSource } from '../model/source.ts';
import { runGeneration } from './generate.ts';
import { validateSampling } from './sampler.ts';
import { AsyncQueue, SerialQueue } from './queue.ts';
import type {
  GenerateChunk,
  GenerateOptions,
  GenerateResult,
  LoadOptions,
  ModelInfo,
  PromptInput,
} from './types.ts';

/** Where the engine gets WebGPU and its shaders; only this differs between Node and browsers. */
export interface EnginePlatform {
  gpu(): Promise<GPU | undefined>;
  shaders(): ShaderLibrary;
}

interface Loaded {
  gpu: GpuContext;
  runner: LlamaRunner;
  tokenizer: Tokenizer;
  info: ModelInfo;
}

/** Loads one model at a time and serves generation requests one after another. */
export class Engine {
  private loaded: Loaded | null = null;
  private readonly queue = new SerialQueue();

  constructor(private readonly platform: EnginePlatform) {}

  get info(): ModelInfo | null {
    return this.loaded?.info ?? null;
  }

  /** Load a model folder (Node) or base URL. Checks WebGPU and tensor sizes before any weight download. */
  load(location: string, opts: LoadOptions = {}): Promise<ModelInfo> {
    return this.queue.run(async () => {
      this.unloadNow();
      const gpu = await acquireDevice(await this.platform.gpu());
      try {
        const files = await loadModelFiles(location, {
          onProgress: opts.onProgress,
          signal: opts.signal,
          checkTensors: (infos) => checkTensorsFit(infos, gpu.limits),
        });
        const tokenizer = await loadTokenizer(openModelSource(location), files.config);
        let uploaded = 0;
        let uploadTotal = 0;
        for (const t of files.tensors.values()) uploadTotal += t.data.byteLength;
        const runner = LlamaRunner.build(gpu, this.platform.shaders(), files.config, files.tensors, {
          contextLength: opts.contextLength,
          maxRows: opts.maxRows,
          onTensor: (tensor, bytes) => {
            uploaded += bytes;
            opts.onProgress?.({ kind: 'upload', tensor, loadedBytes: uploaded, totalBytes: uploadTotal });
          },
        });
        files.tensors.clear();
        const info: ModelInfo = {
          location,
          config: files.config,
          fingerprint: files.fingerprint,
          adapter: gpu.adapterName,
          contextLength: runner.contextLength,
          weightBytes: runner.weights.bytes,
          kvCacheBytes: runner.cache.bytes,
        };
        this.loaded = { gpu, runner, tokenizer, info };
        opts.onProgress?.({ kind: 'ready', totalBytes: files.totalBytes });
        return info;
      } catch (e) {
        gpu.device.destroy();
        throw e;
      }
    });
  }

  /** Token ids of a prompt exactly as generate() would feed them. */
  tokenize(text: string, addSpecialTokens = true): number[] {
    return this.need().tokenizer.encode(text, { addSpecialTokens });
  }

  detokenize(ids: number[]): string {
    return this.need().tokenizer.decode(ids, { skipSpecialTokens: true });
  }

  generate(prompt: PromptInput, opts: GenerateOptions = {}): Promise<GenerateResult> {
    return this.queue.run(() => this.generateNow(prompt, opts));
  }

  /** Streams chunks as tokens are produced; the iterator's return value is the full result. */
  generateStream(prompt: PromptInput, opts: GenerateOptions = {}): AsyncGenerator<GenerateChunk, GenerateResult> {
    const chunks = new AsyncQueue<GenerateChunk>();
    const done = this.queue.run(() => this.generateNow(prompt, opts, (c) => chunks.push(c)));
    done.then(
      () => chunks.close(),
      (e) => chunks.fail(e),
    );
    return (async function* () {
      yield* chunks;
      return await done;
    })();
  }

  /** Free every GPU buffer and the device. */
  unload(): Promise<void> {
    return this.queue.run(async () => this.unloadNow());
  }

  private unloadNow(): void {
    if (!this.loaded) return;
    this.loaded.runner.destroy();
    this.loaded.gpu.device.destroy();
    this.loaded = null;
  }

  private need(): Loaded {
    if (!this.loaded) throw new EngineNotLoadedError();
    return this.loaded;
  }

  private async generateNow(
    prompt: PromptInput,
    opts: GenerateOptions,
    onChunk?: (c: GenerateChunk) => void,
  ): Promise<GenerateResult> {
    const m = this.need();
    validateSampling(opts);
    const maxNew = opts.maxNewTokens ?? 128;
    if (!Number.isInteger(maxNew) || maxNew < 1) {
      throw new InvalidArgumentError(`maxNewTokens must be a whole number >= 1 (got ${maxNew})`);
    }
    const ids =
      typeof prompt === 'string'
        ? prompt.trim().length === 0
          ? []
          : m.tokenizer.encode(prompt, { addSpecialTokens: opts.addSpecialTokens ?? true })
        : prompt.tokenIds;
    if (ids.length === 0) throw new EmptyPromptError();
    const ctx = m.runner.contextLength;
    if (ids.length + maxNew > ctx) {
      throw new ContextOverflowError(
        `The prompt has ${ids.length} tokens and ${maxNew} new tokens were asked for: ${ids.length + maxNew} > the context of ${ctx}. Shorten the prompt or ask for fewer tokens.`,
      );
    }
    return runGeneration(m.runner, m.tokenizer, ids, opts, onChunk);
  }
}
