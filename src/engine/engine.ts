/**
 * The Engine: loads one model at a time onto a WebGPU device (weights streamed to the GPU as they
 * download), owns its KV cache tiers (live, GPU hot tier, memory/IndexedDB backend), and serves
 * generation requests one after another through a queue (docs/DESIGN.md, A request's path).
 */
import type {
  AddDocumentOptions,
  CacheAddOptions,
  CacheStats,
  DocumentAddResult,
  EngineWarning,
  MountOptions,
  MountResult,
  PackImportResult,
  PersistenceOptions,
} from '../api/cache.ts';
import {
  ContextOverflowError,
  DeviceLostError,
  EmptyPromptError,
  EngineNotLoadedError,
  InternalError,
  InvalidArgumentError,
  KVShareError,
  TensorTooLargeError,
} from '../errors.ts';
import { acquireDevice, type GpuContext } from '../gpu/device.ts';
import type { ShaderLibrary } from '../gpu/pipelines.ts';
import type { EntryExpectation, KVEntry, KVEntryMeta } from '../kvshare/entry.ts';
import { type EntryCache, MemoryEntryCache } from '../kvshare/entry-cache.ts';
import { MemoryTier } from '../kvshare/memory-tier.ts';
import { HotTier } from '../llama/hot-tier.ts';
import { loadRunner } from '../llama/load-runner.ts';
import { ReuseKit } from '../llama/reuse-kit.ts';
import type { LlamaRunner } from '../llama/runner.ts';
import { loadModelTokenizer } from '../model/tokenizer/model-tokenizer.ts';
import type { ChatMessage, Tokenizer } from '../model/tokenizer/tokenizer.ts';
import { MountedEntryCache } from '../store/mounted-cache.ts';
import { openMountedPack } from '../store/mounted-pack.ts';
import { resolveKVDtype } from '../util/kv-dtype.ts';
import { AsyncQueue, SerialQueue } from '../util/queue.ts';
import { checkSignal } from '../util/signal.ts';
import { cacheStats, exportCachePack, fetchCachePack, importCachePack } from './cache-packs.ts';
import { CostModel } from './cost-model.ts';
import { cacheDocument, checkAddOptions } from './documents.ts';
import type { EngineHooks } from './hooks.ts';
import { answerTurn, cachePromptTurn } from './live-turn.ts';
import { DEFAULT_REUSE, type LiveRows, type ReuseOptions, resolveReuse } from './prefill.ts';
import type {
  GenerateChunk,
  GenerateOptions,
  GenerateResult,
  LoadOptions,
  ModelInfo,
  PromptInput,
} from './types.ts';
import { checkMessages, validateGenerateArgs, validateLoadArgs, validatePrompt } from './validate-options.ts';

/** Where the engine gets WebGPU and its shaders; only this differs between Node and browsers. */
export interface EnginePlatform {
  gpu(): Promise<GPU | undefined>;
  shaders(): ShaderLibrary;
  /** A persistent KV cache (e.g. IndexedDB) for the loaded model; default: memory only. */
  cacheBackend?(memory: MemoryTier, opts: CacheBackendOptions): Promise<EntryCache>;
}

export interface CacheBackendOptions {
  persistence?: PersistenceOptions;
  onWarning?: (w: EngineWarning) => void;
}

interface Loaded {
  gpu: GpuContext;
  runner: LlamaRunner;
  kit: ReuseKit;
  /** The entry cache: the memory tier, with IndexedDB behind it where the platform has one. */
  entries: MountedEntryCache;
  /** The hot tier: GPU copies of entries of `entries`. */
  hot: HotTier;
  costs: CostModel;
  /** What the live KV cache holds now (null: nothing known to be reusable). */
  live: LiveRows | null;
  reuse: Required<ReuseOptions>;
  tokenizer: Tokenizer;
  info: ModelInfo;
  /** What entries must fit (the loaded runner's context included); checked once, where they come in. */
  expect: EntryExpectation;
  hooks: EngineHooks;
  onWarning?: (w: EngineWarning) => void;
}

/** The KV cache of the loaded model (memory; entries keyed to the model fingerprint). */
export interface EngineCache {
  /**
   * Prefill a prompt (text, token ids, or chat messages: the template without the generation prompt)
   * without generating and store its K/V as an exact entry.
   */
  add(prompt: PromptInput | ChatMessage[], opts?: CacheAddOptions): Promise<KVEntryMeta>;
  /** Chunk a document and store each chunk as its own entry (src/engine/documents.ts). */
  addDocument(text: string, opts: AddDocumentOptions): Promise<DocumentAddResult>;
  /** Store an entry made elsewhere (validated: fingerprint, shapes, lengths, finite values). */
  put(entry: KVEntry): Promise<void>;
  get(id: string): Promise<KVEntry | undefined>;
  stats(): CacheStats;
  list(): KVEntryMeta[];
  delete(id: string): Promise<boolean>;
  clear(): Promise<void>;
  /** A KV pack (src/store/pack.ts) of the loaded model's entries (all, or `ids`). */
  exportPack(ids?: string[]): Promise<Uint8Array<ArrayBuffer>>;
  /**
   * Mount a version 2 pack by URL: fetch only its index; its entries are retrieved from it and each is
   * fetched (HTTP Range), verified and stored the first time a prompt uses it (src/store/mounted-pack.ts).
   */
  mount(url: string, opts?: MountOptions): Promise<MountResult>;
  /** Validate a pack (bytes, Blob or URL) completely, then store its entries. */
  importPack(pack: Blob | ArrayBuffer | Uint8Array | string): Promise<PackImportResult>;
}

/** Loads one model at a time and serves generation requests one after another. */
export class Engine {
  private loaded: Loaded | null = null;
  /** Set when the device of the loaded model was lost; requests fail with it until the next load(). */
  private lostError: DeviceLostError | null = null;
  private readonly queue = new SerialQueue();
  /** Aborts the request being served (interruptGenerate). */
  private current: AbortController | null = null;

  /** `hooks`: research seams (src/engine/hooks.ts) the evaluation sets; products leave them out. */
  constructor(
    private readonly platform: EnginePlatform,
    private readonly hooks: EngineHooks = {},
  ) {}

  get info(): ModelInfo | null {
    return this.loaded?.info ?? null;
  }

  /** Load a model folder (Node) or base URL. Checks WebGPU and tensor sizes before any weight download. */
  load(location: string, opts: LoadOptions = {}): Promise<ModelInfo> {
    return this.queue.run(async () => {
      validateLoadArgs(location, opts);
      const reuse = resolveReuse(opts.reuse, DEFAULT_REUSE); // a bad option fails before any download
      await this.unloadNow();
      this.lostError = null;
      const gpu = await acquireDevice(await this.platform.gpu());
      try {
        let tokenizer: Tokenizer | undefined;
        gpu.device.pushErrorScope('out-of-memory');
        gpu.device.pushErrorScope('validation');
        const files = await loadRunner(gpu, this.platform.shaders(), location, {
          quantize: opts.quantize,
          signal: opts.signal,
          onProgress: opts.onProgress,
          // A missing or broken tokenizer fails the load before any weight is downloaded.
          beforeWeights: async (config, from) => {
            tokenizer = await loadModelTokenizer(location, config, from, opts.signal);
          },
          runner: (config) => ({
            contextLength: opts.contextLength,
            maxRows: opts.maxRows,
            kvDtype: resolveKVDtype(opts.kvDtype, config.headDim),
          }),
        });
        if (!tokenizer) throw new InternalError('internal error: the tokenizer was not loaded');
        const { runner } = files;
        const kvDtype = runner.cache.dtype;
        const kit = new ReuseKit(runner);
        const invalid = await gpu.device.popErrorScope();
        const oom = await gpu.device.popErrorScope();
        if (invalid || oom) {
          kit.destroy();
          runner.destroy();
          if (oom)
            throw new TensorTooLargeError(`The GPU ran out of memory placing the model: ${oom.message}`);
          throw new InternalError(
            `internal error: a GPU pipeline or buffer failed validation: ${invalid?.message}`,
          );
        }
        const info: ModelInfo = {
          location,
          config: files.config,
          fingerprint: files.fingerprint,
          adapter: gpu.adapterName,
          contextLength: runner.contextLength,
          weightBytes: runner.weights.bytes,
          kvCacheBytes: runner.cache.bytes,
          kvDtype,
        };
        const kvDim = files.config.numKvHeads * files.config.headDim;
        const memory = new MemoryTier({
          fingerprint: files.fingerprint,
          numLayers: files.config.numLayers,
          kvDim,
          vocabSize: files.config.vocabSize,
          contextLength: runner.contextLength,
          kvDtype,
          ...(kvDtype === 'q8' ? { q8Group: runner.cache.group } : {}),
          budgetBytes: opts.cacheBudgetBytes ?? 256 * 1024 * 1024,
        });
        const backendOpts = { persistence: opts.persistence, onWarning: opts.onWarning };
        const base =
          (await this.platform.cacheBackend?.(memory, backendOpts)) ?? new MemoryEntryCache(memory);
        // Mounted packs sit in front of the cache: their entries are retrieved from their indexes and fetched on use.
        const entries = new MountedEntryCache(base, (t) => memory.sketch(t), memory.ngram);
        const expect = memory.expect;
        const hot = new HotTier(gpu.device, runner.cache, opts.gpuCacheBudgetBytes ?? 128 * 2 ** 20);
        const costs = new CostModel(files.config);
        this.loaded = {
          gpu,
          runner,
          kit,
          entries,
          hot,
          costs,
          live: null,
          reuse,
          tokenizer,
          info,
          expect,
          hooks: this.hooks,
          onWarning: opts.onWarning,
        };
        opts.onProgress?.({ kind: 'ready', totalBytes: files.totalBytes });
        return info;
      } catch (e) {
        gpu.device.destroy();
        throw e;
      }
    });
  }

  readonly cache: EngineCache = {
    add: (prompt, opts = {}) => this.queue.run(() => this.onGpu(() => this.cachePromptNow(prompt, opts))),
    addDocument: (text, opts) => this.queue.run(() => this.onGpu(() => this.cacheDocumentNow(text, opts))),
    // Mutations wait in the request queue, so no request sees the cache change under it.
    put: (entry) => this.queue.run(async () => this.need().entries.store(entry)),
    get: (id) => this.need().entries.get(id),
    stats: () => {
      const m = this.need();
      const live = m.runner.cache;
      return {
        ...cacheStats(m.entries),
        ...m.entries.mountStats(),
        ...m.hot.stats(),
        kvDtype: live.dtype,
        kvBytesPerToken: 2 * live.numLayers * live.rowBytes,
        gpuLiveBytes: live.bytes,
      };
    },
    list: () => this.need().entries.list(),
    delete: (id) =>
      this.queue.run(async () => {
        const m = this.need();
        m.hot.delete(id);
        m.live = null;
        return m.entries.delete(id);
      }),
    clear: () =>
      this.queue.run(async () => {
        const m = this.need();
        m.hot.clear();
        m.live = null;
        return m.entries.clear();
      }),
    exportPack: async (ids) => {
      const m = this.need();
      return exportCachePack(m.entries, m.info.fingerprint, ids);
    },
    mount: async (url, opts = {}) => {
      if (typeof url !== 'string' || url.length === 0)
        throw new InvalidArgumentError('mount(url) takes a URL');
      if (typeof opts !== 'object' || opts === null)
        throw new InvalidArgumentError('options must be an object');
      // The index is fetched before the mount takes its turn, as a pack URL is (importPack).
      const pack = await openMountedPack(url, this.need().expect, opts);
      return this.queue.run(async () => {
        const m = this.need();
        const added = m.entries.mount(pack);
        return { url, entries: added, indexBytes: pack.index.indexEnd, ranged: pack.ranged };
      });
    },
    importPack: async (pack) => {
      // A pack URL is downloaded before the import takes its turn: a slow server holds this call,
      // never the requests queued behind it.
      const data = typeof pack === 'string' ? await fetchCachePack(pack, this.need().expect) : pack;
      return this.queue.run(async () => {
        const m = this.need();
        return importCachePack(m.entries, data, m.expect);
      });
    },
  };

  /** Stop the request being served now (it finishes with finishReason 'abort'); queued ones still run. */
  interruptGenerate(): void {
    this.current?.abort();
  }

  /**
   * Token ids of a chat: the model's chat template with the generation prompt appended (unless
   * `addGenerationPrompt: false`), message
   * contents as plain text unless `specialTokensInContent`. A model without a template (e.g.
   * stories260K) gets BOS + the messages' contents joined by newlines. Messages far longer than
   * the context (maxPromptChars) are refused before they are rendered or tokenized.
   */
  chatPromptIds(
    messages: ChatMessage[],
    opts: { specialTokensInContent?: boolean; addGenerationPrompt?: boolean } = {},
  ): number[] {
    const m = this.need();
    const maxChars = maxPromptChars(m.runner.contextLength);
    const t = m.tokenizer;
    if (t.hasChatTemplate)
      return t.applyChatTemplate(messages, {
        maxChars,
        specialTokensInContent: opts.specialTokensInContent,
        addGenerationPrompt: opts.addGenerationPrompt ?? true,
      });
    const text = messages.map((x) => x.content).join('\n');
    checkPromptChars(text, m.runner.contextLength);
    return t.encode(text, { addSpecialTokens: true });
  }

  /** Token ids of a prompt exactly as generate() would feed them. */
  tokenize(text: string, addSpecialTokens = true): number[] {
    return this.need().tokenizer.encode(text, { addSpecialTokens });
  }

  detokenize(ids: number[]): string {
    return this.need().tokenizer.decode(ids, { skipSpecialTokens: true });
  }

  /**
   * The text each token adds after the one before it (special tokens kept), so pieces keep their
   * leading spaces: joined, they read as the decoded prompt.
   */
  tokenPieces(ids: number[]): string[] {
    const t = this.need().tokenizer;
    return ids.map((id, i) => {
      if (i === 0) return t.decode([id]);
      const prev = t.decode([ids[i - 1]]);
      const both = t.decode([ids[i - 1], id]);
      return both.startsWith(prev) ? both.slice(prev.length) : t.decode([id]);
    });
  }

  generate(prompt: PromptInput, opts: GenerateOptions = {}): Promise<GenerateResult> {
    return this.queue.run(() =>
      this.withInterrupt(opts, (o) => this.onGpu(() => this.generateNow(prompt, o))),
    );
  }

  private async withInterrupt<T>(opts: GenerateOptions, run: (o: GenerateOptions) => Promise<T>): Promise<T> {
    if (typeof opts !== 'object' || opts === null)
      throw new InvalidArgumentError('options must be an object');
    checkSignal('signal', opts.signal);
    const ac = new AbortController();
    const outer = opts.signal;
    if (outer?.aborted) ac.abort();
    const relay = () => ac.abort();
    outer?.addEventListener('abort', relay);
    this.current = ac;
    try {
      return await run({ ...opts, signal: ac.signal });
    } finally {
      outer?.removeEventListener('abort', relay);
      this.current = null;
    }
  }

  /** Streams chunks as tokens are produced; the iterator's return value is the full result. */
  generateStream(
    prompt: PromptInput,
    opts: GenerateOptions = {},
  ): AsyncGenerator<GenerateChunk, GenerateResult> {
    const chunks = new AsyncQueue<GenerateChunk>();
    const done = this.queue.run(() =>
      this.withInterrupt(opts, (o) => this.onGpu(() => this.generateNow(prompt, o, (c) => chunks.push(c)))),
    );
    done.then(
      () => chunks.close(),
      (e) => chunks.fail(e),
    );
    return (async function* () {
      yield* chunks;
      return await done;
    })();
  }

  /** Free every GPU buffer and the device; pending cache writes are finished first. */
  unload(): Promise<void> {
    return this.queue.run(() => this.unloadNow());
  }

  private async unloadNow(): Promise<void> {
    const m = this.loaded;
    if (!m) return;
    this.loaded = null;
    m.kit.destroy();
    m.hot.clear();
    m.runner.destroy();
    m.gpu.device.destroy();
    await m.entries.close?.();
  }

  private need(): Loaded {
    if (!this.loaded) throw this.lostError ?? new EngineNotLoadedError();
    return this.loaded;
  }

  /**
   * GPU work on the loaded model. If its device is lost (before or during the work), the model is
   * unloaded and this and later requests fail with DeviceLostError until load() is called again.
   */
  private async onGpu<T>(run: () => Promise<T>): Promise<T> {
    const m = this.need();
    try {
      if (m.gpu.lost) throw m.gpu.lost;
      return await run();
    } catch (e) {
      // A GPU call that failed because the device went away may reject before the loss is reported.
      if (!m.gpu.lost && !(e instanceof KVShareError)) await new Promise((r) => setTimeout(r, 0));
      const lost = m.gpu.lost;
      if (!lost) throw e;
      if (this.loaded === m) {
        this.lostError = new DeviceLostError(`${lost.message}. Call load() to load the model again.`);
        await this.unloadNow();
      }
      throw this.lostError ?? lost;
    }
  }

  private async generateNow(
    prompt: PromptInput,
    opts: GenerateOptions,
    onChunk?: (c: GenerateChunk) => void,
  ): Promise<GenerateResult> {
    const m = this.need();
    validateGenerateArgs(prompt, opts, m.info.config.vocabSize);
    const reuse = resolveReuse(opts.reuse, m.reuse);
    const maxNew = opts.maxNewTokens ?? 128;
    const ids = this.promptIds(m, prompt, opts.addSpecialTokens, maxNew);
    return answerTurn(m, ids, opts, reuse, onChunk);
  }

  private promptIds(
    m: Loaded,
    prompt: PromptInput,
    addSpecialTokens: boolean | undefined,
    maxNew: number,
  ): number[] {
    if (typeof prompt === 'string') checkPromptChars(prompt, m.runner.contextLength);
    const ids =
      typeof prompt === 'string'
        ? prompt.trim().length === 0
          ? []
          : m.tokenizer.encode(prompt, { addSpecialTokens: addSpecialTokens ?? true })
        : prompt.tokenIds;
    if (ids.length === 0) throw new EmptyPromptError();
    const ctx = m.runner.contextLength;
    if (ids.length + maxNew > ctx) {
      throw new ContextOverflowError(
        `The prompt has ${ids.length} tokens and ${maxNew} new tokens were asked for: ${ids.length + maxNew} > the context of ${ctx}. Shorten the prompt or ask for fewer tokens.`,
      );
    }
    return ids;
  }

  private async cachePromptNow(
    prompt: PromptInput | ChatMessage[],
    opts: CacheAddOptions,
  ): Promise<KVEntryMeta> {
    const m = this.need();
    const meta = checkAddOptions(opts);
    let ids: number[];
    if (Array.isArray(prompt)) {
      ids = this.chatPromptIds(checkMessages(prompt), { addGenerationPrompt: false });
      if (ids.length === 0) throw new EmptyPromptError();
      if (ids.length > m.runner.contextLength)
        throw new ContextOverflowError(
          `The chat has ${ids.length} tokens, more than the context of ${m.runner.contextLength}: shorten it.`,
        );
    } else {
      validatePrompt(prompt, m.info.config.vocabSize);
      ids = this.promptIds(m, prompt, true, 0);
    }
    let done = 0;
    const onRows = (n: number) => {
      done += n;
      opts.onProgress?.({ doneTokens: done, totalTokens: ids.length });
    };
    return cachePromptTurn(m, ids, { id: opts.id, meta, onRows, signal: opts.signal });
  }

  private async cacheDocumentNow(text: string, opts: AddDocumentOptions): Promise<DocumentAddResult> {
    const m = this.need();
    return cacheDocument(
      {
        tokenizer: m.tokenizer,
        contextLength: m.runner.contextLength,
        ids: () => m.entries.list().map((e) => e.id),
        delete: async (id) => {
          m.hot.delete(id);
          m.live = null;
          await m.entries.delete(id);
        },
        store: (ids, id, meta, onRows, signal) => cachePromptTurn(m, ids, { id, meta, onRows, signal }),
      },
      text,
      opts,
    );
  }
}

/**
 * Characters a prompt may have before it is refused untokenized: CHARS_PER_TOKEN per token of the
 * context. Far more than real text takes (about 4 per token in English), so only prompts that
 * could never fit are refused, before tokenizing them in full blocks the queue.
 */
const CHARS_PER_TOKEN = 32;

export function maxPromptChars(contextLength: number): number {
  return contextLength * CHARS_PER_TOKEN;
}

function checkPromptChars(text: string, contextLength: number): void {
  if (text.length > maxPromptChars(contextLength))
    throw new ContextOverflowError(
      `The prompt has ${text.length} characters, far more than a context of ${contextLength} tokens can hold (at most ${maxPromptChars(contextLength)} characters are tokenized): shorten it.`,
    );
}
