// What the demo remembers between visits (demo/memory.ts): values round-trip through localStorage, and
// anything malformed read back is dropped (and removed), never trusted.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { memory } from '../../demo/memory.ts';

class MapStorage {
  readonly items = new Map<string, string>();
  getItem(k: string): string | null {
    return this.items.get(k) ?? null;
  }
  setItem(k: string, v: string): void {
    this.items.set(k, v);
  }
  removeItem(k: string): void {
    this.items.delete(k);
  }
}

let storage: MapStorage;
const g = globalThis as { localStorage?: unknown };

beforeEach(() => {
  storage = new MapStorage();
  g.localStorage = storage;
});
afterEach(() => {
  delete g.localStorage;
});

const stories = {
  source: 'local' as const,
  url: 'http://localhost:5173/models/stories260K-hf',
  label: 'stories260K-hf',
};

describe('demo memory', () => {
  it('round-trips the model, the settings and the conversation', () => {
    memory.saveModel({ choice: stories, autoLoad: true });
    expect(memory.model()).toEqual({ choice: stories, autoLoad: true });
    const settings = {
      systemPrompt: 'Be brief.',
      maxTokens: '12',
      temperature: '0.5',
      reuseMode: 'prefix' as const,
      history: true,
    };
    memory.saveSettings(settings);
    expect(memory.settings()).toEqual(settings);
    const turns = [
      { role: 'user' as const, content: 'Once upon a time' },
      { role: 'assistant' as const, content: ', there was', finishReason: 'length' as const },
    ];
    memory.saveConversation({ modelUrl: stories.url, turns });
    expect(memory.conversation(stories.url)).toEqual({ modelUrl: stories.url, turns });
    memory.forgetConversation(stories.url);
    expect(memory.conversation(stories.url)).toBeNull();
  });

  it('keeps settings and conversations per model', () => {
    const other = 'http://localhost:5173/models/tiny-chat';
    const a = {
      systemPrompt: '',
      maxTokens: '40',
      temperature: '0',
      reuseMode: 'kvshare' as const,
      history: false,
    };
    const b = { ...a, maxTokens: '128', history: true };
    memory.saveSettingsFor(stories.url, a);
    memory.saveSettingsFor(other, b);
    expect(memory.settingsFor(stories.url)).toEqual(a);
    expect(memory.settingsFor(other)).toEqual(b);
    expect(memory.settingsFor('http://localhost:5173/models/never-loaded')).toBeNull();
    const turns = [{ role: 'user' as const, content: 'Once upon a time' }];
    memory.saveConversation({ modelUrl: stories.url, turns });
    expect(memory.conversation(other)).toBeNull();
    memory.saveConversation({ modelUrl: other, turns: [] });
    expect(memory.conversation(stories.url)?.turns).toEqual(turns);
    memory.forgetConversation(other);
    expect(memory.conversation(stories.url)?.turns).toEqual(turns);
    // A conversation filed under another model's key (a hand edit) is not shown for this one.
    storage.setItem(`kvshare-demo:conversation:${other}`, JSON.stringify({ modelUrl: stories.url, turns }));
    expect(memory.conversation(other)).toBeNull();
  });

  it('keeps the latest 200 turns of a long conversation', () => {
    const turns = Array.from({ length: 250 }, (_, i) => ({ role: 'user' as const, content: `q${i}` }));
    memory.saveConversation({ modelUrl: stories.url, turns });
    const back = memory.conversation(stories.url)!;
    expect(back.turns).toHaveLength(200);
    expect(back.turns[0]).toEqual({ role: 'user', content: 'q50' });
  });

  it('drops malformed values and removes them from storage', () => {
    const bad: [string, string, () => unknown][] = [
      ['kvshare-demo:model', '{not json', memory.model],
      [
        'kvshare-demo:model',
        JSON.stringify({ choice: { ...stories, url: 'javascript:alert(1)' }, autoLoad: true }),
        memory.model,
      ],
      ['kvshare-demo:model', JSON.stringify({ choice: stories }), memory.model],
      [
        'kvshare-demo:settings',
        JSON.stringify({
          systemPrompt: '',
          maxTokens: 8,
          temperature: '0',
          reuseMode: 'kvshare',
          history: false,
        }),
        memory.settings,
      ],
      [
        'kvshare-demo:settings',
        JSON.stringify({
          systemPrompt: '',
          maxTokens: '8',
          temperature: '0',
          reuseMode: 'all',
          history: false,
        }),
        memory.settings,
      ],
      [
        `kvshare-demo:conversation:${stories.url}`,
        JSON.stringify({ modelUrl: stories.url, turns: [{ role: 'system', content: 'x' }] }),
        () => memory.conversation(stories.url),
      ],
      [
        `kvshare-demo:conversation:${stories.url}`,
        JSON.stringify({
          modelUrl: stories.url,
          turns: [{ role: 'assistant', content: 'x', finishReason: 'eos' }],
        }),
        () => memory.conversation(stories.url),
      ],
      [
        `kvshare-demo:conversation:${stories.url}`,
        JSON.stringify([1, 2]),
        () => memory.conversation(stories.url),
      ],
    ];
    for (const [key, raw, read] of bad) {
      storage.setItem(key, raw);
      expect(read()).toBeNull();
      expect(storage.getItem(key)).toBeNull();
    }
  });

  it('works without storage: blocked reads give nothing, blocked writes are ignored', () => {
    g.localStorage = {
      getItem: () => {
        throw new Error('SecurityError');
      },
      setItem: () => {
        throw new Error('QuotaExceededError');
      },
      removeItem: () => {
        throw new Error('SecurityError');
      },
    };
    expect(memory.model()).toBeNull();
    expect(() => memory.saveModel({ choice: stories, autoLoad: true })).not.toThrow();
    expect(() => memory.forgetConversation(stories.url)).not.toThrow();
    expect(memory.settingsFor(stories.url)).toBeNull();
  });
});
