// Header parse speed: a 128k-entry vocabulary (Llama-3 size), in memory and from a Blob (the timing
// that test/gguf/reader.test.ts used to assert; it belongs here).
//   npm run build && node bench/gguf-header.mjs
import { parseGGUFHeader, writeGGUF } from '../dist/index.js';

const tokens = Array.from({ length: 128256 }, (_, i) => `tok_${i}_ĠΩ`);
const bytes = writeGGUF({
  metadata: {
    'tokenizer.ggml.tokens': { type: 'array', itemType: 'string', value: tokens },
    'tokenizer.ggml.token_type': { type: 'array', itemType: 'i32', value: new Int32Array(tokens.length).fill(1) },
  },
});
console.log(`128256-token vocabulary, ${(bytes.length / 1e6).toFixed(1)} MB header; median of 5 runs`);
for (const [name, input] of [['Uint8Array', () => bytes], ['Blob', () => new Blob([bytes])]]) {
  const ms = [];
  for (let i = 0; i < 5; i++) { const t0 = performance.now(); await parseGGUFHeader(input()); ms.push(performance.now() - t0); }
  ms.sort((a, b) => a - b);
  console.log(`${name.padEnd(12)} ${ms[2].toFixed(1)} ms`);
}
