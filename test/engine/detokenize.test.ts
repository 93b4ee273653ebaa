import { readFile } from 'node:fs/promises';
import { beforeAll, describe, expect, it } from 'vitest';
import { IncrementalDecoder } from '../../src/engine/detokenize.ts';
import { parseConfig } from '../../src/model/config.ts';
import { loadTokenizer, type Tokenizer } from '../../src/model/tokenizer/tokenizer.ts';
import { storiesDir } from '../helpers/models.ts';

describe('IncrementalDecoder', () => {
  let tok: Tokenizer;
  beforeAll(async () => {
    const config = parseConfig(JSON.parse(await readFile(`${storiesDir()}/config.json`, 'utf8')));
    tok = await loadTokenizer(storiesDir(), config);
  });

  it('streams exactly the text of a full decode, token by token', () => {
    const ids = tok.encode('Once upon a time, Lily saw a big dog. "Hi!" she said.\nThe end.', {
      addSpecialTokens: false,
    });
    expect(ids.length).toBeGreaterThan(10);
    const detok = new IncrementalDecoder(tok);
    let text = '';
    for (let n = 1; n <= ids.length; n++) {
      text += detok.push(ids.slice(0, n));
      expect(tok.decode(ids.slice(0, n), { skipSpecialTokens: true }).startsWith(text)).toBe(true);
    }
    expect(text).toBe(tok.decode(ids, { skipSpecialTokens: true }));
  });

  it('holds back a split multi-byte character until it is complete', () => {
    // Llama-style byte-fallback tokens <0x00>..<0xFF> are ids 3..258: an em dash (U+2014) is 3 bytes.
    const ids = [0xe2, 0x80, 0x94].map((b) => 3 + b);
    expect(tok.decode(ids, { skipSpecialTokens: true })).toBe('\u2014');
    const detok = new IncrementalDecoder(tok);
    const parts = ids.map((_, n) => detok.push(ids.slice(0, n + 1)));
    expect(parts.slice(0, -1).join('')).toBe('');
    expect(parts.join('')).toBe('\u2014');
  });
});
