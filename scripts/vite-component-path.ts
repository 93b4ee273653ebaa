/**
 * A Vite plugin that answers the embed snippet's URL, `/lib/kvshare-chat.js`, with the
 * `<kvshare-chat>` module (src/component/index.ts, compiled by Vite), in `npm start`'s dev server and
 * in the demo build, so the snippet shown on /embed.html works as written on the demo's own server.
 * (A site serves the built dist-component/kvshare-chat.js at that path instead.)
 */
import type { Plugin } from 'vite';

export const COMPONENT_PATH = '/lib/kvshare-chat.js';

export function serveComponentAt(entry: string, path = COMPONENT_PATH): Plugin {
  return {
    name: 'kvshare-component-path',
    resolveId(id) {
      return id === path ? entry : null;
    },
  };
}
