/**
 * Cross-tab notices for the persistent KV cache. Tabs (and workers) of one origin share the IndexedDB
 * database; after each write a tab posts what changed on a BroadcastChannel, and the others update
 * their in-memory index. Without BroadcastChannel every tab still works, it only learns of other tabs'
 * entries on its next open() or when a get() misses its index.
 */
import { STORE_KEY_VERSION } from './records.ts';

/** Posted after this instance changed the store. */
export interface ChannelNotice {
  type: 'put' | 'delete' | 'clear';
  id: string; // '' for clear
  fingerprint: string; // only instances for the same model act on it
  version: number; // entry format version
}

export function isChannelNotice(data: unknown): data is ChannelNotice {
  if (typeof data !== 'object' || data === null) return false;
  const m = data as Partial<ChannelNotice>;
  return (
    (m.type === 'put' || m.type === 'delete' || m.type === 'clear') &&
    typeof m.id === 'string' &&
    typeof m.fingerprint === 'string' &&
    typeof m.version === 'number'
  );
}

export class TabChannel {
  private channel: BroadcastChannel | undefined;

  /** Listen on `name` for notices about `fingerprint` at this format version (no-op without BroadcastChannel). */
  constructor(
    name: string,
    private readonly fingerprint: string,
    onNotice: (n: ChannelNotice) => void,
  ) {
    if (!name || typeof BroadcastChannel !== 'function') return;
    const ch = new BroadcastChannel(name);
    ch.onmessage = (ev: MessageEvent<unknown>) => {
      const n = ev.data;
      if (isChannelNotice(n) && n.fingerprint === fingerprint && n.version === STORE_KEY_VERSION) onNotice(n);
    };
    (ch as { unref?: () => void }).unref?.(); // Node: do not keep the process alive
    this.channel = ch;
  }

  post(type: ChannelNotice['type'], id: string): void {
    try {
      this.channel?.postMessage({ type, id, fingerprint: this.fingerprint, version: STORE_KEY_VERSION });
    } catch {
      // closed: other tabs catch up on their next open
    }
  }

  close(): void {
    this.channel?.close();
    this.channel = undefined;
  }
}
