// Run with node inside the temporary app (e2e/package.e2e.test.ts): the installed package's Node entry
// point, greedy. Prints {text, tokenIds} as JSON: text from createNodeEngine() (the EngineApi, as in
// pages), token ids from createNodeTokenEngine(). Usage: node node-golden.mjs <model folder> <prompt>
import { createNodeEngine, createNodeTokenEngine } from 'kvshare-web/node';

const [model, prompt] = process.argv.slice(2);
const api = createNodeEngine();
await api.load(model, { contextLength: 256 });
const answer = await api.chat.completions.create({
  messages: [{ role: 'user', content: prompt }],
  max_tokens: 64,
  temperature: 0,
  reuse: { mode: 'none' },
});
await api.unload();
const engine = createNodeTokenEngine();
await engine.load(model, { contextLength: 256 });
const r = await engine.generate(prompt, { maxNewTokens: 64 });
await engine.unload();
process.stdout.write(JSON.stringify({ text: answer.choices[0].message.content, tokenIds: r.tokenIds }));
