// Bundled by Vite inside the temporary app (e2e/package.e2e.test.ts): createEngine() from the installed
// package, whose worker and shaders must come along without any setting here. Sets window.packedResult.
import { createEngine } from 'kvshare-web/client';

async function run() {
  const engine = createEngine();
  const info = await engine.load(`${location.origin}/models/stories260K-hf`, { contextLength: 256 });
  const messages = [{ role: 'user', content: 'Once upon a time' }];
  const chunks = [];
  const stream = await engine.chat.completions.create({ messages, max_tokens: 16, stream: true });
  for await (const chunk of stream) chunks.push(chunk.choices[0]?.delta.content ?? '');
  document.getElementById('out').textContent = chunks.join('');
  return { adapter: info.adapter, chunks: chunks.length, text: chunks.join('') };
}

window.packedResult = run().catch((e) => ({ error: `${e?.name}: ${e?.message}` }));
