// The OpenAI-compatible handler served by Deno.serve or Bun.serve (the same createHandler that
// `bitnet-wasm serve` puts behind Node's http), for the serving checks (serving.mjs).
//   deno run --allow-read --allow-net test/runtimes/serve-host.mjs [--max-queue N]
//   bun test/runtimes/serve-host.mjs [--max-queue N]
// Prints "SERVING http://127.0.0.1:PORT" once it listens (on a free port).
import { readFile } from 'node:fs/promises';

const args = globalThis.Deno ? Deno.args : process.argv.slice(2);
const maxQueue = args.includes('--max-queue') ? Number(args[args.indexOf('--max-queue') + 1]) : 8;
const { createHandler, loadModel } = await import(new URL('../../dist/index.js', import.meta.url).href);
const model = await loadModel(new Uint8Array(await readFile(new URL('../../models/default.gguf', import.meta.url))));
const handler = createHandler({ model, modelId: 'default', maxQueue });

if (globalThis.Deno) {
  Deno.serve({ hostname: '127.0.0.1', port: 0, onListen: ({ port }) => console.log(`SERVING http://127.0.0.1:${port}`) }, handler);
} else if (globalThis.Bun) {
  const server = Bun.serve({ hostname: '127.0.0.1', port: 0, fetch: handler, idleTimeout: 0 });
  console.log(`SERVING http://127.0.0.1:${server.port}`);
} else {
  throw new Error('serve-host.mjs is for Deno and Bun (Node: bitnet-wasm serve)');
}
