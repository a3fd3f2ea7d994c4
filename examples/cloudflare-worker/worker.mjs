// Cloudflare Worker example: a fetch handler that loads a small model bundled with the Worker (a
// data module: an ArrayBuffer) and streams a completion as the response body.
//   GET /?prompt=Once+upon+a+time&max=64
// `bitnet-wasm` resolves to its "workerd" export, which imports both .wasm builds as modules
// (workerd cannot compile wasm bytes). Build + run locally: see README.md beside this file.
import { loadModel } from 'bitnet-wasm';
import modelData from './model.gguf';

let modelPromise = null; // loaded once per isolate, reused by later requests

export default {
  async fetch(request) {
    const url = new URL(request.url);
    if (url.pathname !== '/') return new Response('not found', { status: 404 });
    const prompt = url.searchParams.get('prompt') ?? 'Once upon a time';
    const maxTokens = Math.min(256, Number(url.searchParams.get('max') ?? 64));
    modelPromise ??= loadModel(new Uint8Array(modelData));
    const model = await modelPromise;
    const enc = new TextEncoder();
    const abort = new AbortController(); // a signal also makes generate() yield to the event loop per token, so pieces flush
    const body = new ReadableStream({
      async start(controller) {
        try {
          const r = await model.generate(prompt, {
            maxTokens, temperature: 0.9, topK: 40, topP: 0.95, seed: 1234, signal: abort.signal,
            onText: (piece) => controller.enqueue(enc.encode(piece)),
          });
          controller.enqueue(enc.encode(`\n[${r.stats.generatedTokens} tokens, ${r.finishReason}]\n`));
          controller.close();
        } catch (e) {
          if (!abort.signal.aborted) controller.error(e);
        }
      },
      cancel() { abort.abort(); },
    });
    return new Response(body, { headers: { 'content-type': 'text/plain; charset=utf-8', 'x-content-type-options': 'nosniff' } });
  },
};
