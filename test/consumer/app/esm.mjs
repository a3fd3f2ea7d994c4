// Node ESM: the package, its shipped model through the export (import.meta.resolve) and defaultModelUrl().
import { defaultModelUrl, loadModel } from 'bitnet-wasm';

const viaExport = import.meta.resolve('bitnet-wasm/models/default.gguf');
if (viaExport !== defaultModelUrl().href) throw new Error(`defaultModelUrl() ${defaultModelUrl().href} != import.meta.resolve ${viaExport}`);
const model = await loadModel(new URL(viaExport));
const { text } = await model.generate('The jury said', { maxTokens: 16, temperature: 0, seed: 1 });
// The shipped model has a chat template (the README's chat() line works on it).
const chat = await model.chat([{ role: 'user', content: 'What did the jury say?' }], { maxTokens: 8 });
model.dispose();
console.log(JSON.stringify({ text, chat: chat.text, model: viaExport }));
