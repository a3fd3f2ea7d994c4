// Cloudflare Worker (wrangler): the package through its "workerd" export, the shipped model through
// its package export as a Data module (the one wrangler.toml rule).
import { loadModel } from 'bitnet-wasm';
import modelBytes from 'bitnet-wasm/models/default.gguf';

export default {
  async fetch() {
    const model = await loadModel(new Uint8Array(modelBytes));
    const { text } = await model.generate('The jury said', { maxTokens: 16, temperature: 0, seed: 1 });
    model.dispose();
    return Response.json({ text });
  },
};
