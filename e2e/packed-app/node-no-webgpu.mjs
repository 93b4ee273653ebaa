// Run with node inside the temporary app before `webgpu` is installed (e2e/package.e2e.test.ts):
// loading a model through kvshare-web/node must fail with a typed error naming the package.
// Prints {name, code, message, isKVShareError} as JSON. Usage: node node-no-webgpu.mjs <model folder>
import { KVShareError } from 'kvshare-web';
import { createNodeEngine } from 'kvshare-web/node';

const api = createNodeEngine();
try {
  await api.load(process.argv[2], { contextLength: 64 });
  process.stdout.write(JSON.stringify({ loaded: true }));
} catch (e) {
  process.stdout.write(
    JSON.stringify({
      name: e.name,
      code: e.code,
      message: e.message,
      isKVShareError: e instanceof KVShareError,
    }),
  );
}
