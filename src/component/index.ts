/**
 * The `<kvshare-chat>` web component. Importing this module defines the element (side effect):
 *
 * ```html
 * <script type="module" src="/lib/kvshare-chat.js"></script>
 * <kvshare-chat model="/models/stories260K-hf" max-tokens="64"></kvshare-chat>
 * ```
 *
 * To choose the tag name instead, import `defineKVShareChat` from './define.ts' (no side effect).
 */
import { defineKVShareChat } from './define.ts';

export { DEFAULT_MAX_TOKENS, DEFAULT_TEMPERATURE, KVShareChat } from './chat-element.ts';
export { defineKVShareChat } from './define.ts';
export { type EngineFactory, type EngineLease, EnginePool, sharedEnginePool } from './engine-pool.ts';
export type { KVShareChatEventMap, KVShareErrorDetail, KVShareMessageDetail } from './events.ts';

defineKVShareChat();
