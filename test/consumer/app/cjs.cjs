// CommonJS: require('bitnet-wasm') (the "require" export condition: dist/index.cjs).
const { defaultModelUrl, loadModel, BitnetError } = require('bitnet-wasm');

(async () => {
  const model = await loadModel(defaultModelUrl());
  const { text } = await model.generate('The jury said', { maxTokens: 16, temperature: 0, seed: 1 });
  model.dispose();
  const file = require.resolve('bitnet-wasm');
  console.log(JSON.stringify({ text, file, bitnetError: typeof BitnetError }));
})().catch((e) => { console.error(e); process.exit(1); });
