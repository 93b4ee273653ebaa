/** Registering `<kvshare-chat>` (or the same element under another tag name). */
import { InvalidArgumentError } from '../errors.ts';
import { KVShareChat } from './chat-element.ts';

declare global {
  interface HTMLElementTagNameMap {
    'kvshare-chat': KVShareChat;
  }
}

/** Tag names this module has defined (the first one holds KVShareChat itself). */
const registered = new Set<string>();

/**
 * Define the element as `tagName` (default 'kvshare-chat') and return its class. Calling it again
 * with a name already defined returns the class registered there. A class can be registered under
 * one name only, so other names get a subclass.
 */
export function defineKVShareChat(tagName = 'kvshare-chat'): typeof KVShareChat {
  const existing = customElements.get(tagName);
  if (existing) {
    if (existing === KVShareChat || existing.prototype instanceof KVShareChat) {
      return existing as typeof KVShareChat;
    }
    throw new InvalidArgumentError(`<${tagName}> is already defined by another element.`);
  }
  const cls = registered.size > 0 ? class extends KVShareChat {} : KVShareChat;
  customElements.define(tagName, cls);
  registered.add(tagName);
  return cls;
}
