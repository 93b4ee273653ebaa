// Type-level checks of chat.completions.create, checked by `npm run typecheck` (tsc covers test/): the
// `stream` flag narrows the result, and requests the API does not take fail to compile. The runtime
// part only makes sure the file is loaded and its type assertions are not dead code.
import { describe, expect, expectTypeOf, it } from 'vitest';
import type {
  ChatCompletion,
  ChatCompletionChunk,
  ChatCompletionRequest,
  EngineApi,
} from '../../src/api/types.ts';

type Create = EngineApi['chat']['completions']['create'];
declare const create: Create;

// Never called: a function whose body only has to compile.
function narrowing(): void {
  const messages = [{ role: 'user' as const, content: 'hi' }];
  expectTypeOf(create({ messages })).toEqualTypeOf<Promise<ChatCompletion>>();
  expectTypeOf(create({ messages, stream: false })).toEqualTypeOf<Promise<ChatCompletion>>();
  expectTypeOf(create({ messages, stream: true })).toEqualTypeOf<
    Promise<AsyncIterable<ChatCompletionChunk>>
  >();
  const either = { messages, stream: Math.random() > 0.5 } as ChatCompletionRequest;
  expectTypeOf(create(either)).toEqualTypeOf<Promise<ChatCompletion | AsyncIterable<ChatCompletionChunk>>>();
  // @ts-expect-error a chat request needs messages
  create({ stream: true });
  // @ts-expect-error roles are the chat roles only
  create({ messages: [{ role: 'wizard', content: 'hi' }] });
  // @ts-expect-error max_tokens is a number
  create({ messages, max_tokens: '8' });
  // @ts-expect-error the reuse mode is one of the four modes
  create({ messages, reuse: { mode: 'everything' } });
}

describe('chat.completions.create types', () => {
  it('narrows on stream (checked by tsc; see the function above)', () => {
    expect(typeof narrowing).toBe('function');
  });
});
