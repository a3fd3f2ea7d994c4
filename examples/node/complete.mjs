// Node example: load a GGUF file and stream a completion to stdout.
//   node examples/node/complete.mjs [model.gguf] [prompt]   (default: the package's shipped model)
// (Inside this repository `bitnet-wasm` resolves to the package itself; elsewhere, npm i bitnet-wasm.)
import { defaultModelUrl, init, kernelInfo, loadModel } from 'bitnet-wasm';

// defaultModelUrl(): the model shipped in the package (a file: URL here).
const [file = defaultModelUrl(), prompt = 'Once upon a time'] = process.argv.slice(2);

await init(); // relaxed SIMD where the engine runs it correctly, else simd128
console.error(`bitnet-wasm build: ${kernelInfo().build} (Node ${process.version})`);
const model = await loadModel(file); // a path: read by ranges, straight into wasm memory
const result = await model.generate(prompt, {
  maxTokens: 64, temperature: 0.9, topK: 40, topP: 0.95, seed: 1234,
  onText: (piece) => process.stdout.write(piece),
});
process.stdout.write('\n');
console.error(`${result.stats.generatedTokens} tokens, ${result.stats.decodeTokensPerSecond.toFixed(0)} tok/s (${result.finishReason})`);
model.dispose();
