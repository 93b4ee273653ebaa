/** What the peer benchmark page (page.ts) puts on `window.kvsharePeer`; bench/peer.ts calls it. */

/** Our engine, or transformers.js on a device. */
export type PeerEngine = 'kvshare' | 'tjs-webgpu' | 'tjs-wasm';

export interface PeerRun {
  /** The generated token ids (greedy, EOS ignored). */
  ids: number[];
  /** From the generate call to the first generated token. */
  ttftMs: number;
  /** Tokens 2..N over the time from the first to the last. */
  decodeTokensPerSec: number;
}

export interface PeerApi {
  /** Load `model` (a folder name under /models/) into `engine`; resolves to the load time in ms. */
  load(engine: PeerEngine, model: string): Promise<number>;
  run(engine: PeerEngine, promptIds: number[], newTokens: number): Promise<PeerRun>;
  /** The WebGPU adapter the page sees. */
  adapter(): Promise<string>;
}
