// Cloudflare Worker example: bitnet-wasm's OpenAI-compatible handler as the Worker's fetch, with a
// small model bundled as a data module (an ArrayBuffer), loaded on the first request and reused
// by later ones in the same isolate.
//   POST /v1/chat/completions, POST /v1/completions (stream: true for server-sent events),
//   GET /v1/models, GET /health
// `bitnet-wasm` resolves to its "workerd" export, which imports both .wasm builds as modules
// (workerd cannot compile wasm bytes). Build + run locally: see README.md beside this file.
import { createHandler, loadModel } from 'bitnet-wasm';
import modelData from './model.gguf';

export default {
  fetch: createHandler({ model: () => loadModel(new Uint8Array(modelData)), modelId: 'default', maxQueue: 8 }),
};
