// What a site's `<script type="module" src=".../kvshare-chat.js">` does, from source: importing the
// component defines <kvshare-chat>. (The built file is `npm run build:component` → dist-component/.)
import '../src/component/index.ts';
