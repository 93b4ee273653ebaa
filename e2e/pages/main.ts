// The browser-test page: the public client API (src/client) driven step by step by e2e/*.e2e.test.ts.
import {
  CachePackError,
  type ChatMessage,
  createEngine,
  EmptyPromptError,
  type EngineClient,
  EngineNotLoadedError,
  type EngineWarning,
  KVShareError,
  type LoadProgress,
} from '../../src/client/index.ts';
import type { ChatRequest, E2EApi, ErrorReport, StreamReport } from './e2e-api.ts';

const engine: EngineClient = createEngine();
const warnings: EngineWarning[] = [];
let pack: Uint8Array<ArrayBuffer> | null = null;

function errorReport(e: unknown, expected: new (message: string) => KVShareError): ErrorReport {
  const err = e instanceof Error ? e : new Error(String(e));
  return {
    instanceOfExpected: e instanceof expected,
    instanceOfKVShareError: e instanceof KVShareError,
    name: err.name,
    code: e instanceof KVShareError ? e.code : null,
    message: err.message,
  };
}

async function expectError(run: () => Promise<unknown>, expected: new (message: string) => KVShareError) {
  try {
    await run();
  } catch (e) {
    return errorReport(e, expected);
  }
  throw new Error(`expected ${expected.name}, but the call succeeded`);
}

async function stream(req: ChatRequest, abortAfter?: number): Promise<StreamReport> {
  const ac = new AbortController();
  const chunks = await engine.chat.completions.create({ ...req, stream: true, signal: ac.signal });
  const report: StreamReport = {
    chunks: 0,
    content: '',
    firstRole: null,
    wellFormed: true,
    finishReason: null,
    usage: null,
  };
  let sawLast = false;
  for await (const c of chunks) {
    const choice = c.choices[0];
    if (report.chunks === 0) report.firstRole = choice.delta.role ?? null;
    if (sawLast) report.wellFormed = false;
    report.chunks++;
    report.content += choice.delta.content;
    report.finishReason = choice.finish_reason;
    if (choice.finish_reason !== null || c.usage) {
      sawLast = true;
      report.usage = c.usage ?? null;
      if (choice.finish_reason === null || !c.usage) report.wellFormed = false;
    }
    if (report.chunks === abortAfter) ac.abort();
  }
  if (!sawLast) report.wellFormed = false;
  return report;
}

const api: E2EApi = {
  async load(url, contextLength) {
    const events: LoadProgress[] = [];
    const info = await engine.load(url, {
      contextLength,
      onProgress: (p) => events.push(p),
      onWarning: (w) => warnings.push(w),
    });
    const last = new Map<string, number>();
    let monotonic = true;
    for (const p of events) {
      const key = p.kind === 'fetch' ? `fetch:${p.file}` : p.kind;
      const loaded = 'loadedBytes' in p ? p.loadedBytes : p.totalBytes;
      if (loaded < (last.get(key) ?? 0)) monotonic = false;
      last.set(key, loaded);
    }
    return {
      info,
      progressEvents: events.length,
      lastKind: events.at(-1)?.kind ?? 'none',
      monotonic,
      pageHasGpu: 'gpu' in navigator,
    };
  },
  complete: (req) => engine.chat.completions.create({ ...req, stream: false }),
  stream: (req) => stream(req),
  streamAndAbort: (req, after) => stream(req, after),
  emptyChatError: () => expectError(() => engine.chat.completions.create({ messages: [] }), EmptyPromptError),
  async notLoadedError(messages: ChatMessage[]) {
    const idle = createEngine();
    try {
      return await expectError(() => idle.chat.completions.create({ messages }), EngineNotLoadedError);
    } finally {
      idle.terminate();
    }
  },
  cacheEntries: async () => (await engine.cache.stats()).entries,
  cacheStats: () => engine.cache.stats(),
  cacheList: () => engine.cache.list(),
  async exportPack() {
    pack = await engine.cache.exportPack();
    return pack.byteLength;
  },
  clearCache: () => engine.cache.clear(),
  async importPack() {
    if (!pack) throw new Error('no pack exported yet');
    return (await engine.cache.importPack(new Blob([pack]))).ids;
  },
  async importCorruptPack() {
    if (!pack) throw new Error('no pack exported yet');
    const bad = pack.slice();
    bad[0] ^= 0xff;
    return expectError(() => engine.cache.importPack(bad), CachePackError);
  },
  tokenPieces: (ids) => engine.tokenPieces(ids),
  warnings: () => warnings,
  async unload() {
    await engine.unload();
    const infoAfter = await engine.info();
    const chatAfter = await expectError(
      () => engine.chat.completions.create({ messages: [{ role: 'user', content: 'Hi' }] }),
      EngineNotLoadedError,
    );
    return { infoAfter, chatAfter };
  },
};

window.kvshareE2E = api;
