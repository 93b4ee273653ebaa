// Run with node inside the temporary app (e2e/package.e2e.test.ts): the installed package's Node entry
// point, greedy, prints {text, tokenIds} as JSON. Usage: node node-golden.mjs <model folder> <prompt>
import { createNodeEngine } from 'kvshare-web/node';

const [model, prompt] = process.argv.slice(2);
const engine = createNodeEngine();
await engine.load(model, { contextLength: 256 });
const r = await engine.generate(prompt, { maxNewTokens: 64 });
process.stdout.write(JSON.stringify({ text: r.text, tokenIds: r.tokenIds }));
engine.unload();
